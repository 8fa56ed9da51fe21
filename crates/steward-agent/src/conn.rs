//! One connection to the server: TLS (pinned), WebSocket, then the
//! challenge-response handshake of `steward_protocol::messages`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signer, SigningKey};
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::ServerName;
use steward_protocol::fragment::{fragments, FRAGMENT};
use steward_protocol::messages::{proof_bytes, AgentMsg, Purpose, ServerMsg};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub type Ws = WebSocketStream<TlsStream<TcpStream>>;

/// Splits `https://host[:port][/...]` into (host, port).
pub fn host_port(server: &str) -> Result<(String, u16), String> {
    let rest = server.trim().strip_prefix("https://").ok_or_else(|| format!("the server URL must start with https:// (got {server:?})"))?;
    let authority = rest.split('/').next().unwrap_or("");
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or("bad IPv6 address in the server URL")?;
        (h.to_string(), after.strip_prefix(':').map(|p| p.parse::<u16>()).transpose().map_err(|_| "bad port")?.unwrap_or(443))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().map_err(|_| format!("bad port in {server:?}"))?),
            None => (authority.to_string(), 443),
        }
    };
    if host.is_empty() {
        return Err(format!("no host in {server:?}"));
    }
    Ok((host, port))
}

/// How long connecting may take, up to the server's challenge: a server
/// that accepts and then says nothing (overloaded, or a broken middlebox)
/// must not hold the agent forever; it tries again with backoff. Longer
/// than a busy server lets a connection wait for its TLS turn (30 s).
pub const OPEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Connects and opens the WebSocket; returns it with the server's nonce.
pub async fn open(server: &str, pin: &str) -> Result<(Ws, Vec<u8>), String> {
    let (host, port) = host_port(server)?;
    tokio::time::timeout(OPEN_TIMEOUT, open_to(host, port, pin))
        .await
        .map_err(|_| format!("{server} did not answer within {} s", OPEN_TIMEOUT.as_secs()))?
}

async fn open_to(host: String, port: u16, pin: &str) -> Result<(Ws, Vec<u8>), String> {
    let tcp = TcpStream::connect((host.as_str(), port)).await.map_err(|e| format!("cannot reach {host}:{port}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let name = ServerName::try_from(host.clone()).map_err(|_| format!("bad host name {host:?}"))?;
    let tls = tokio_rustls::TlsConnector::from(crate::pin::client_config(pin))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS to {host}:{port} failed: {e}"))?;
    let authority = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let req = format!("wss://{authority}/agent/v1/connect").into_client_request().map_err(|e| e.to_string())?;
    let (mut ws, _) = tokio_tungstenite::client_async(req, tls).await.map_err(|e| format!("WebSocket handshake failed: {e}"))?;
    match recv(&mut ws).await? {
        ServerMsg::Challenge { nonce, .. } => Ok((ws, B64.decode(nonce).map_err(|_| "bad challenge")?)),
        other => Err(format!("expected a challenge, got {other:?}")),
    }
}

/// Sends a message; a long one (an inventory, a batch of samples, script
/// output) in fragments of `steward_protocol::FRAGMENT` bytes, so that the
/// server's read buffer for this connection stays small.
pub async fn send(ws: &mut Ws, m: &AgentMsg) -> Result<(), String> {
    let text = serde_json::to_string(m).expect("serialises");
    let failed = |e: tokio_tungstenite::tungstenite::Error| format!("send failed: {e}");
    if text.len() <= FRAGMENT {
        return ws.send(Message::Text(text.into())).await.map_err(failed);
    }
    let pieces = fragments(&text, FRAGMENT);
    let last = pieces.len() - 1;
    for (i, piece) in pieces.into_iter().enumerate() {
        let op = if i == 0 { Data::Text } else { Data::Continue };
        let frame = Frame::message(piece.as_bytes().to_vec(), OpCode::Data(op), i == last);
        ws.feed(Message::Frame(frame)).await.map_err(failed)?;
    }
    ws.flush().await.map_err(failed)
}

pub async fn recv(ws: &mut Ws) -> Result<ServerMsg, String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).map_err(|e| format!("unreadable message from the server: {e}")),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Ok(Message::Binary(_))) => return Err("unexpected binary message".into()),
            Some(Ok(Message::Close(_))) | None => return Err("the server closed the connection".into()),
            Some(Err(e)) => return Err(format!("connection error: {e}")),
        }
    }
}

pub fn sign(key: &SigningKey, purpose: Purpose, nonce: &[u8], device_id: i64) -> String {
    B64.encode(key.sign(&proof_bytes(purpose, nonce, device_id)).to_bytes())
}

/// Turns a refusal into the message people read.
pub fn refusal_text(code: &str, message: &str) -> String {
    let hint = match code {
        "token_expired" => "ask for a new enrollment token",
        "token_revoked" => "the token was revoked; ask for a new one",
        "token_used_up" => "the token has enrolled as many devices as allowed; ask for a new one",
        "token_unknown" => "check the token in the install command",
        "device_revoked" => "this device was removed from Steward; reinstall with a new token to add it again",
        "device_unknown" => "this device is not known to the server; reinstall with a new token",
        "not_accepted" => "the server does not know this device, or its key does not match; reinstall with a new token",
        _ => "",
    };
    if hint.is_empty() {
        format!("refused by the server: {message} ({code})")
    } else {
        format!("refused by the server: {message} ({code}): {hint}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_parse() {
        assert_eq!(host_port("https://steward.example.com").unwrap(), ("steward.example.com".into(), 443));
        assert_eq!(host_port("https://127.0.0.1:8443/").unwrap(), ("127.0.0.1".into(), 8443));
        assert_eq!(host_port("https://[::1]:9000").unwrap(), ("::1".into(), 9000));
        assert!(host_port("http://plain.example").is_err());
        assert!(host_port("https://:80").is_err());
    }

    /// The clock is paused and jumps ahead while everything waits, so the
    /// minute passes at once; the socket and the TLS attempt are real.
    #[tokio::test(start_paused = true)]
    async fn a_server_that_accepts_and_says_nothing_is_given_up_on() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let silent = tokio::spawn(async move { listener.accept().await.unwrap() });
        let pin = "00".repeat(32);
        let e = open(&format!("https://{addr}"), &pin).await.map(drop).expect_err("no answer, no connection");
        assert!(e.contains("did not answer within 60 s"), "{e}");
        drop(silent);
    }
}
