//! Server TLS over rustls's unbuffered API, so that an idle connection holds
//! no buffers.
//!
//! A node keeps 100,000 agent connections open, nearly all idle. The usual
//! stream (tokio-rustls over `rustls::ServerConnection`) keeps a 4 KiB record
//! buffer per connection for as long as it lives: rustls sizes it before each
//! read, and a read that finds nothing leaves it in place. Here every buffer
//! is a `Vec` that is freed as soon as it is empty: bytes are taken from the
//! socket only once it is readable, processed in place, and what the reader
//! has not taken yet, or the socket has not accepted yet, is all that stays.

use super::handshake_gate::HandshakeGate;
use super::pending::{Unauthenticated, WithPending};
use rustls::server::UnbufferedServerConnection;
use rustls::unbuffered::{ConnectionState, EncodeError, EncryptError, InsufficientSizeError, UnbufferedStatus};
use rustls::ServerConfig;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Plaintext encrypted per `poll_write` at most, so what waits for the
/// socket stays bounded.
const MAX_WRITE: usize = 64 * 1024;
/// Bytes taken from the socket per read (on the stack, then only what
/// arrived is kept).
const READ_CHUNK: usize = 8 * 1024;
/// A peer has this long to finish the handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A server-side TLS stream with no buffers while idle.
pub struct LeanTls {
    io: TcpStream,
    conn: UnbufferedServerConnection,
    /// TLS bytes received and not yet processed.
    incoming: Vec<u8>,
    /// Decrypted bytes the reader has not taken yet, from `plain_pos` on.
    plain: Vec<u8>,
    plain_pos: usize,
    /// TLS bytes to send, from `out_pos` on.
    outgoing: Vec<u8>,
    out_pos: usize,
    /// The handshake is over: application data may be written.
    established: bool,
    /// The peer sent close_notify or closed its end: reads return EOF.
    peer_done: bool,
    /// We queued our close_notify.
    closing: bool,
    /// Until the first application bytes arrive: when the peer must have
    /// sent them (HTTP's own header timeout starts only once a request has
    /// begun, so a connection that never speaks after TLS ends here).
    first_data_by: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// What processing the received records left to do.
enum Next {
    /// More bytes from the peer are needed.
    Input,
    /// Nothing until the peer sends more; writing is possible.
    Idle,
}

fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// Frees a drained buffer's memory, the point of this module.
fn release(buf: &mut Vec<u8>, pos: &mut usize) {
    if *pos >= buf.len() {
        *buf = Vec::new();
        *pos = 0;
    }
}

/// The room an encode needs, when too little was given.
fn encode_room(e: &EncodeError) -> Option<usize> {
    match e {
        EncodeError::InsufficientSize(InsufficientSizeError { required_size }) => Some(*required_size),
        _ => None,
    }
}

/// The room an encryption needs, when too little was given.
fn encrypt_room(e: &EncryptError) -> Option<usize> {
    match e {
        EncryptError::InsufficientSize(InsufficientSizeError { required_size }) => Some(*required_size),
        _ => None,
    }
}

/// Appends what `fill` writes to `out`, which first asks how much room it needs.
fn append<E>(out: &mut Vec<u8>, mut fill: impl FnMut(&mut [u8]) -> Result<usize, E>, room: impl Fn(&E) -> Option<usize>) -> Result<(), E> {
    let start = out.len();
    match fill(&mut []) {
        Ok(_) => Ok(()),
        Err(e) => {
            let Some(need) = room(&e) else { return Err(e) };
            out.resize(start + need, 0);
            let n = fill(&mut out[start..])?;
            out.truncate(start + n);
            Ok(())
        }
    }
}

impl LeanTls {
    /// Closes the connection unless application data arrives within `wait`.
    pub fn expect_data_within(&mut self, wait: Duration) {
        self.first_data_by = Some(Box::pin(tokio::time::sleep(wait)));
    }
}

impl LeanTls {
    /// Runs the TLS handshake on an accepted connection; a peer that has
    /// not finished it within `timeout` is dropped.
    pub async fn accept(io: TcpStream, config: Arc<ServerConfig>, timeout: Duration) -> io::Result<LeanTls> {
        let conn = UnbufferedServerConnection::new(config).map_err(tls_error)?;
        let mut s = LeanTls {
            io,
            conn,
            incoming: Vec::new(),
            plain: Vec::new(),
            plain_pos: 0,
            outgoing: Vec::new(),
            out_pos: 0,
            established: false,
            peer_done: false,
            closing: false,
            first_data_by: None,
        };
        let handshake = poll_fn(|cx| s.poll_handshake(cx));
        match tokio::time::timeout(timeout, handshake).await {
            Ok(r) => r?,
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out")),
        }
        Ok(s)
    }

    fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let next = self.process(None)?;
            ready!(self.poll_send(cx))?;
            if self.established {
                return Poll::Ready(Ok(()));
            }
            if self.peer_done {
                return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
            }
            if matches!(next, Next::Input) {
                ready!(self.poll_receive(cx))?;
            }
        }
    }

    /// Processes the received bytes: decrypts application data into
    /// `plain`, encodes what the handshake wants sent into `outgoing`, and
    /// encrypts `write` once the connection allows it. Returns what is
    /// needed next and, through `written`, how much of `write` was taken.
    fn process_inner(&mut self, mut write: Option<&[u8]>, written: &mut usize) -> io::Result<Next> {
        loop {
            let Self { conn, incoming, plain, outgoing, established, peer_done, .. } = self;
            let UnbufferedStatus { mut discard, state } = conn.process_tls_records(incoming);
            let next = match state.map_err(tls_error)? {
                ConnectionState::ReadTraffic(mut records) => {
                    while let Some(record) = records.next_record() {
                        let record = record.map_err(tls_error)?;
                        discard += record.discard;
                        plain.extend_from_slice(record.payload);
                    }
                    None
                }
                ConnectionState::EncodeTlsData(mut data) => {
                    append(outgoing, |buf| data.encode(buf), encode_room).map_err(|e| io::Error::other(format!("TLS encode: {e:?}")))?;
                    None
                }
                // Queued in `outgoing`: sent before we wait for the peer.
                ConnectionState::TransmitTlsData(data) => {
                    data.done();
                    None
                }
                ConnectionState::BlockedHandshake => Some(Next::Input),
                ConnectionState::WriteTraffic(mut traffic) => {
                    *established = true;
                    if let Some(data) = write.take() {
                        append(outgoing, |buf| traffic.encrypt(data, buf), encrypt_room)
                            .map_err(|e| io::Error::other(format!("TLS encrypt: {e:?}")))?;
                        *written = data.len();
                    }
                    Some(Next::Idle)
                }
                // Said once; the connection may still send, so go on.
                ConnectionState::PeerClosed => {
                    *peer_done = true;
                    None
                }
                ConnectionState::Closed => {
                    *peer_done = true;
                    Some(Next::Idle)
                }
                ConnectionState::ReadEarlyData(_) => return Err(io::Error::new(io::ErrorKind::InvalidData, "unexpected early data")),
                _ => return Err(io::Error::other("unknown TLS connection state")),
            };
            self.discard_incoming(discard);
            if let Some(next) = next {
                return Ok(next);
            }
        }
    }

    fn process(&mut self, write: Option<&[u8]>) -> io::Result<Next> {
        let mut written = 0;
        self.process_inner(write, &mut written)
    }

    /// Sends what waits in `outgoing`; ready once all of it is written.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.out_pos < self.outgoing.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.outgoing[self.out_pos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.out_pos += n;
        }
        release(&mut self.outgoing, &mut self.out_pos);
        Poll::Ready(Ok(()))
    }

    /// Waits until the socket is readable, then appends what arrived to
    /// `incoming` (read into an uninitialised stack buffer, so nothing is
    /// allocated or zeroed ahead of data). The end of the stream marks the
    /// peer done.
    fn poll_receive(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut chunk = [std::mem::MaybeUninit::<u8>::uninit(); READ_CHUNK];
        let mut buf = ReadBuf::uninit(&mut chunk);
        ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf))?;
        if buf.filled().is_empty() {
            self.peer_done = true;
        } else {
            self.incoming.extend_from_slice(buf.filled());
        }
        Poll::Ready(Ok(()))
    }

    /// Bytes held in buffers right now (tests check an idle connection
    /// holds none).
    pub fn buffered_capacity(&self) -> usize {
        self.incoming.capacity() + self.plain.capacity() + self.outgoing.capacity()
    }

    pub fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.io.peer_addr()
    }
}

impl AsyncRead for LeanTls {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(deadline) = this.first_data_by.as_mut() {
            if this.plain_pos < this.plain.len() {
                this.first_data_by = None;
            } else if deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(timed_out("no request after the TLS handshake")));
            }
        }
        loop {
            if this.plain_pos < this.plain.len() {
                this.first_data_by = None;
                let n = buf.remaining().min(this.plain.len() - this.plain_pos);
                buf.put_slice(&this.plain[this.plain_pos..this.plain_pos + n]);
                this.plain_pos += n;
                release(&mut this.plain, &mut this.plain_pos);
                return Poll::Ready(Ok(()));
            }
            if this.peer_done {
                return Poll::Ready(Ok(()));
            }
            this.process(None)?;
            // Whatever the records asked us to send (a key update, say)
            // goes out; if the socket is full, reading goes on regardless.
            if let Poll::Ready(Err(e)) = this.poll_send(cx) {
                return Poll::Ready(Err(e));
            }
            if this.plain_pos < this.plain.len() || this.peer_done {
                continue;
            }
            ready!(this.poll_receive(cx))?;
        }
    }
}

impl AsyncWrite for LeanTls {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // One batch at a time: what we accepted before is sent first.
        ready!(this.poll_send(cx))?;
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.closing {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let data = &data[..data.len().min(MAX_WRITE)];
        let mut written = 0;
        this.process_inner(Some(data), &mut written)?;
        if written == 0 {
            return Poll::Ready(Err(io::Error::other("TLS connection cannot send")));
        }
        // Start sending now; what the socket cannot take yet waits for the
        // next write or flush.
        if let Poll::Ready(Err(e)) = this.poll_send(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_send(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.closing {
            this.closing = true;
            this.queue_close_notify()?;
        }
        ready!(this.poll_send(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

impl LeanTls {
    fn queue_close_notify(&mut self) -> io::Result<()> {
        let Self { conn, incoming, outgoing, .. } = self;
        let UnbufferedStatus { discard, state } = conn.process_tls_records(incoming);
        let result = match state {
            Ok(ConnectionState::WriteTraffic(mut traffic)) => append(outgoing, |buf| traffic.queue_close_notify(buf), encrypt_room)
                .map_err(|e| io::Error::other(format!("TLS close: {e:?}"))),
            // Unread data or a closed connection: the socket's close will do.
            _ => Ok(()),
        };
        self.discard_incoming(discard);
        result
    }

    /// Drops processed bytes, and the buffer with them once it is empty.
    fn discard_incoming(&mut self, n: usize) {
        self.incoming.drain(..n);
        if self.incoming.is_empty() {
            self.incoming = Vec::new();
        }
    }
}

/// Accepts TLS connections for `axum_server` with [`LeanTls`], a bounded
/// number of handshakes at a time (see [`HandshakeGate`]).
#[derive(Clone)]
pub struct Acceptor {
    config: Arc<ServerConfig>,
    gate: HandshakeGate,
    pending: Unauthenticated,
    /// How long a connection may stay silent after its handshake.
    first_data: Duration,
}

impl Acceptor {
    pub fn new(config: Arc<ServerConfig>, gate: HandshakeGate, pending: Unauthenticated, first_data: Duration) -> Self {
        Acceptor { config, gate, pending, first_data }
    }
}

/// How long a peer that has spoken may wait for its turn at a handshake
/// (agents give up on a connection attempt after 60 s).
pub const TURN_TIMEOUT: Duration = Duration::from_secs(30);

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, what.to_string())
}

/// A connection's way through the gate: the peer's first bytes, a turn,
/// then the handshake, each within its own time.
async fn accept_gated(stream: TcpStream, config: Arc<ServerConfig>, gate: HandshakeGate) -> io::Result<LeanTls> {
    let ip = stream.peer_addr()?.ip();
    // Until it speaks, a peer holds a socket and this future, no turn.
    // (A peek, not `readable()`, which may wake up before any byte is in.)
    let first = tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.peek(&mut [0u8; 1])).await;
    if first.map_err(|_| timed_out("the peer sent nothing"))?? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let turn = tokio::time::timeout(TURN_TIMEOUT, gate.enter(ip)).await.map_err(|_| timed_out("no handshake turn in time"))?;
    let tls = LeanTls::accept(stream, config, HANDSHAKE_TIMEOUT).await;
    drop(turn);
    tls
}

impl<S: Send + 'static> axum_server::accept::Accept<TcpStream, S> for Acceptor {
    type Stream = LeanTls;
    type Service = WithPending<S>;
    type Future = Pin<Box<dyn Future<Output = io::Result<(LeanTls, WithPending<S>)>> + Send>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let (config, gate, pending, first_data) = (self.config.clone(), self.gate.clone(), self.pending.clone(), self.first_data);
        Box::pin(async move {
            let ip = stream.peer_addr()?.ip();
            let mut tls = accept_gated(stream, config, gate).await?;
            tls.expect_data_within(first_data);
            // Past TLS, it counts as unauthenticated until a request on it
            // proves who is there; an address with too many is refused.
            let Some(p) = pending.admit(ip) else {
                tracing::debug!(%ip, "too many unauthenticated connections from this address: closed");
                return Err(io::Error::other("too many unauthenticated connections from this address"));
            };
            Ok((tls, WithPending::new(service, p)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};

    fn configs() -> (Arc<ServerConfig>, Arc<rustls::ClientConfig>) {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let cert = CertificateDer::from(ck.cert.der().to_vec());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key)
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        (Arc::new(server), Arc::new(client))
    }

    /// A server stream and a tokio-rustls client connected to it.
    async fn pair() -> (LeanTls, tokio_rustls::client::TlsStream<TcpStream>) {
        let (server_cfg, client_cfg) = configs();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            LeanTls::accept(tcp, server_cfg, Duration::from_secs(5)).await.unwrap()
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let client = tokio_rustls::TlsConnector::from(client_cfg).connect(ServerName::try_from("localhost").unwrap(), tcp).await.unwrap();
        (server.await.unwrap(), client)
    }

    #[tokio::test]
    async fn data_crosses_both_ways_intact_in_any_chunking() {
        let (mut server, mut client) = pair().await;
        // More than several TLS records and more than one write's batch.
        let sent: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let echo = tokio::spawn(async move {
            let mut got = vec![0u8; 300_000];
            let mut at = 0;
            let mut step = 1;
            while at < got.len() {
                // Odd-sized reads, from 1 byte up.
                let end = (at + step).min(got.len());
                let n = server.read(&mut got[at..end]).await.unwrap();
                assert!(n > 0, "early end of stream at {at}");
                at += n;
                step = step * 3 % 20_011 + 1;
            }
            server.write_all(&got).await.unwrap();
            server.flush().await.unwrap();
            server
        });
        for chunk in sent.chunks(7_919) {
            client.write_all(chunk).await.unwrap();
        }
        client.flush().await.unwrap();
        let mut back = vec![0u8; sent.len()];
        client.read_exact(&mut back).await.unwrap();
        assert!(back == sent, "the echo differs from what was sent");
        let server = echo.await.unwrap();
        assert_eq!(server.buffered_capacity(), 0, "an idle connection holds no buffers");
    }

    #[tokio::test]
    async fn an_idle_connection_holds_no_buffers_between_messages() {
        let (mut server, mut client) = pair().await;
        for msg in [&b"heartbeat"[..], &[7u8; 5000][..]] {
            client.write_all(msg).await.unwrap();
            client.flush().await.unwrap();
            let mut got = vec![0u8; msg.len()];
            server.read_exact(&mut got).await.unwrap();
            assert_eq!(got, msg);
            server.write_all(b"ack").await.unwrap();
            server.flush().await.unwrap();
            let mut ack = [0u8; 3];
            client.read_exact(&mut ack).await.unwrap();
            assert_eq!(server.buffered_capacity(), 0, "after a {}-byte message", msg.len());
        }
    }

    #[tokio::test]
    async fn close_notify_ends_the_stream_cleanly_both_ways() {
        let (mut server, mut client) = pair().await;
        client.write_all(b"last words").await.unwrap();
        client.shutdown().await.unwrap();
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"last words");
        server.shutdown().await.unwrap();
        let mut rest = Vec::new();
        // A clean end (close_notify), not an unexpected EOF error.
        client.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }

    #[tokio::test]
    async fn a_peer_that_is_not_tls_or_never_finishes_is_dropped() {
        let (server_cfg, _) = configs();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut plain = TcpStream::connect(addr).await.unwrap();
        let (tcp, _) = listener.accept().await.unwrap();
        plain.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let e = LeanTls::accept(tcp, server_cfg.clone(), Duration::from_secs(5)).await.err().expect("plain HTTP is refused");
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");

        let _silent = TcpStream::connect(addr).await.unwrap();
        let (tcp, _) = listener.accept().await.unwrap();
        let e = LeanTls::accept(tcp, server_cfg, Duration::from_millis(300)).await.err().expect("a silent peer times out");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}");
    }
}
