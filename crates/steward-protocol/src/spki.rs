//! The certificate pin: SHA-256 of the server certificate's
//! SubjectPublicKeyInfo, found with a minimal DER walk (no X.509 library on
//! the agent). Both the server (to print it) and the agent (to check it) use
//! this one function.

use sha2::{Digest, Sha256};

/// Reads one DER TLV at `b[at..]`: (tag, header length, content length).
fn tlv(b: &[u8], at: usize) -> Option<(u8, usize, usize)> {
    let tag = *b.get(at)?;
    let first = *b.get(at + 1)? as usize;
    if first < 0x80 {
        return Some((tag, 2, first));
    }
    let n = first & 0x7f;
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | *b.get(at + 2 + i)? as usize;
    }
    Some((tag, 2 + n, len))
}

/// The DER bytes of the SubjectPublicKeyInfo of an X.509 certificate.
pub fn spki_der(cert: &[u8]) -> Option<&[u8]> {
    // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { ... } ... }
    let (t, h, _) = tlv(cert, 0)?;
    if t != 0x30 {
        return None;
    }
    let tbs = h;
    let (t, h, len) = tlv(cert, tbs)?;
    if t != 0x30 {
        return None;
    }
    let end = tbs.checked_add(h)?.checked_add(len)?;
    let mut at = tbs + h;
    // Optional [0] version, then serial, signature, issuer, validity, subject.
    let (t, h0, l0) = tlv(cert, at)?;
    if t == 0xa0 {
        at += h0 + l0;
    }
    for _ in 0..5 {
        let (_, h, l) = tlv(cert, at)?;
        at = at.checked_add(h)?.checked_add(l)?;
    }
    let (t, h, l) = tlv(cert, at)?;
    let spki_end = at.checked_add(h)?.checked_add(l)?;
    if t != 0x30 || spki_end > end || spki_end > cert.len() {
        return None;
    }
    Some(&cert[at..spki_end])
}

/// Lower-case hex SHA-256 of the certificate's SubjectPublicKeyInfo.
pub fn spki_sha256_hex(cert: &[u8]) -> Option<String> {
    let d = Sha256::digest(spki_der(cert)?);
    Some(d.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = spki_der(&bytes);
        }
    }
}
