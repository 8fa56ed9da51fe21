//! The HTTP(S) check: one GET, its status, a text in its body, how long it
//! took, and for HTTPS how many days the server's certificate has left.
//! Certificates are verified against Mozilla's roots (`webpki-roots`, built
//! in, so the check behaves the same on every machine); one that does not
//! verify fails the check and says why.

use super::probe::Found;
use std::sync::Arc;
use std::time::{Duration, Instant};
use steward_protocol::checks::{CheckKind, CheckSpec, Verdict};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The most of an answer read.
const MAX_ANSWER: usize = 1 << 20;

/// A URL's parts: https?, host, port, path.
pub fn parse_url(url: &str) -> Option<(bool, String, u16, String)> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") { (true, r) } else { (false, url.strip_prefix("http://")?) };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let path = if path.starts_with('?') { format!("/{path}") } else { path };
    let default = if tls { 443 } else { 80 };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        (h.to_string(), after.strip_prefix(':').map(|p| p.parse().ok()).unwrap_or(Some(default))?)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().ok()?),
            None => (authority.to_string(), default),
        }
    };
    let clean = !host.is_empty() && !authority.contains('@') && path.chars().all(|c| c.is_ascii_graphic());
    clean.then_some((tls, host, port, path))
}

pub async fn check(spec: &CheckSpec) -> Found {
    let CheckKind::Http { url, timeout_ms, status, body_contains, latency_ms, cert_days } = &spec.kind else {
        unreachable!("an http check")
    };
    let Some((tls, host, port, path)) = parse_url(url) else {
        return (Verdict::Critical, format!("{url} is not an http(s) URL"), None);
    };
    let started = Instant::now();
    let fetched = tokio::time::timeout(Duration::from_millis((*timeout_ms).into()), fetch(tls, &host, port, &path)).await;
    let (code, body, not_after) = match fetched {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return (spec.severity, format!("{url}: {e}"), None),
        Err(_) => return (spec.severity, format!("{url}: no answer within {timeout_ms} ms"), None),
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let status_ok = match status {
        Some(s) => code == *s,
        None => (200..400).contains(&code),
    };
    if !status_ok {
        return (spec.severity, format!("{url} answered {code}"), Some(ms));
    }
    if let Some(want) = body_contains {
        if !body.contains(want.as_str()) {
            return (spec.severity, format!("{url} answered {code} without {want:?}"), Some(ms));
        }
    }
    let (mut verdict, mut output) = (latency_ms.above(ms), format!("{url} answered {code} in {ms:.0} ms"));
    if let Some(not_after) = not_after {
        let days = (not_after - crate::link::now()) as f64 / 86_400.0;
        let v = cert_days.below(days);
        output.push_str(&format!("; certificate expires in {days:.0} days"));
        verdict = verdict.max(v);
        if cert_days.is_set() {
            return (verdict, output, Some(days));
        }
    }
    (verdict, output, Some(ms))
}

/// One GET: the status, the body (as text) and the certificate's expiry.
async fn fetch(tls: bool, host: &str, port: u16, path: &str) -> Result<(u16, String, Option<i64>), String> {
    let tcp = tokio::net::TcpStream::connect((host, port)).await.map_err(|e| e.to_string())?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: steward-agent\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    if !tls {
        let raw = exchange(tcp, &request).await?;
        let (code, body) = parse_answer(&raw)?;
        return Ok((code, body, None));
    }
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|_| format!("bad host name {host:?}"))?;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(cfg)).connect(name, tcp).await.map_err(|e| format!("TLS: {e}"))?;
    let not_after = stream.get_ref().1.peer_certificates().and_then(|c| c.first()).and_then(|c| not_after(c.as_ref()));
    let raw = exchange(stream, &request).await?;
    let (code, body) = parse_answer(&raw)?;
    Ok((code, body, not_after))
}

async fn exchange(mut s: impl AsyncRead + AsyncWrite + Unpin, request: &str) -> Result<Vec<u8>, String> {
    s.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    // A TLS server that closes without close_notify still gave its answer.
    let _ = (&mut s).take(MAX_ANSWER as u64).read_to_end(&mut raw).await;
    if raw.is_empty() {
        return Err("no answer".into());
    }
    Ok(raw)
}

/// The status code and body (chunked encoding undone) of an HTTP/1.x answer.
pub fn parse_answer(raw: &[u8]) -> Result<(u16, String), String> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("not an HTTP answer")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let code = head
        .lines()
        .next()
        .filter(|l| l.starts_with("HTTP/"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or("not an HTTP answer")?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = &raw[split + 4..];
    let body = if chunked { dechunk(body) } else { body.to_vec() };
    Ok((code, String::from_utf8_lossy(&body).into_owned()))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&b[..eol]).ok().and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok());
        let Some(size) = size.filter(|s| *s > 0) else { break };
        let start = eol + 2;
        let end = (start + size).min(b.len());
        out.extend_from_slice(&b[start..end]);
        b = &b[(end + 2).min(b.len())..];
    }
    out
}

/// One DER element: its tag, its contents, and what follows it.
fn element(d: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = d.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize), &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// A certificate's `notAfter` in Unix seconds, read from its DER.
pub fn not_after(cert: &[u8]) -> Option<i64> {
    let (_, cert, _) = element(cert)?;
    let (_, tbs, _) = element(cert)?;
    let (tag, _, mut rest) = element(tbs)?;
    // The version is optional ([0]); the serial number follows it.
    if tag == 0xa0 {
        rest = element(rest)?.2;
    }
    let rest = element(rest)?.2; // signature algorithm
    let rest = element(rest)?.2; // issuer
    let (_, validity, _) = element(rest)?;
    let (_, _, after) = element(validity)?;
    let (tag, time, _) = element(after)?;
    der_time(tag, std::str::from_utf8(time).ok()?)
}

/// UTCTime (`YYMMDDHHMMSSZ`, tag 0x17) or GeneralizedTime
/// (`YYYYMMDDHHMMSSZ`, 0x18) as Unix seconds.
fn der_time(tag: u8, t: &str) -> Option<i64> {
    let t = t.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i64 = t.get(..2)?.parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, t.get(2..)?)
        }
        0x18 => (t.get(..4)?.parse().ok()?, t.get(4..)?),
        _ => return None,
    };
    let n = |i: usize| -> Option<i64> { rest.get(i..i + 2)?.parse().ok() };
    let (month, day, h, m, s) = (n(0)?, n(2)?, n(4)?, n(6)?, n(8)?);
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 of a calendar date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if content.len() < 0x80 {
            v.push(content.len() as u8);
        } else {
            v.extend([0x82, (content.len() >> 8) as u8, content.len() as u8]);
        }
        v.extend_from_slice(content);
        v
    }

    #[test]
    fn a_certificates_expiry_is_read_from_its_der() {
        let validity = [der(0x17, b"250101000000Z"), der(0x18, b"20270315120000Z")].concat();
        let tbs = [
            der(0xa0, &der(0x02, &[2])),
            der(0x02, &[1, 2, 3]),
            der(0x30, &der(0x06, &[42])),
            der(0x30, &[0u8; 200]),
            der(0x30, &validity),
            der(0x30, b"subject"),
        ]
        .concat();
        let cert = der(0x30, &[der(0x30, &tbs), der(0x30, b"alg"), der(0x03, b"sig")].concat());
        // 2027-03-15T12:00:00Z
        assert_eq!(not_after(&cert), Some(1_805_112_000));
        assert_eq!(not_after(&cert[..20]), None);
        assert_eq!(der_time(0x17, "491231235959Z"), Some(2_524_607_999));
    }

    #[test]
    fn urls_and_answers_read() {
        assert_eq!(parse_url("https://example.com"), Some((true, "example.com".into(), 443, "/".into())));
        assert_eq!(parse_url("http://10.0.0.5:8080/health?x=1"), Some((false, "10.0.0.5".into(), 8080, "/health?x=1".into())));
        assert_eq!(parse_url("http://[::1]:81/"), Some((false, "::1".into(), 81, "/".into())));
        assert_eq!(parse_url("ftp://x"), None);
        assert_eq!(parse_url("http://user@host/"), None);
        assert_eq!(parse_url("http://host/a b"), None);
        let (code, body) =
            parse_answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nall \r\n3\r\nok!\r\n0\r\n\r\n").unwrap();
        assert_eq!((code, body.as_str()), (200, "all ok!"));
        assert_eq!(parse_answer(b"HTTP/1.0 503 Busy\r\n\r\n").unwrap().0, 503);
        assert!(parse_answer(b"garbage").is_err());
    }
}
