//! A TCP connector for hyper whose connections ACK at once: `TCP_NODELAY`, and `TCP_QUICKACK`
//! re-armed before every read.
//!
//! Why (measured, shim/README.md "The ~40 ms tail"): Linux delays the ACK of a received segment
//! (up to ~40 ms) while a connection is in "ping-pong" mode, which it enters as soon as the
//! socket has sent data shortly after receiving some, i.e. on every request/response
//! connection. A peer that writes a response in two pieces with Nagle on (cargo-lambda's Runtime
//! API writes the head of `/next` and the event body separately whenever the body is not in
//! its buffer yet) sends the second piece only once the first is ACKed: the invocation then
//! waits for our delayed ACK. `TCP_QUICKACK` leaves ping-pong mode, so that the read that
//! consumes the first piece ACKs it; the kernel resets the flag by itself, hence re-armed before
//! every read (one `setsockopt`, well under a microsecond).

use hyper::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::net::TcpStream;

/// Connects like [`HttpConnector`] (with `TCP_NODELAY`); its connections re-arm
/// `TCP_QUICKACK` before every read.
#[derive(Clone, Debug)]
pub struct QuickAckConnector {
    inner: HttpConnector,
    rearm: bool,
}

impl Default for QuickAckConnector {
    fn default() -> Self {
        Self::new()
    }
}

impl QuickAckConnector {
    pub fn new() -> QuickAckConnector {
        Self::with_rearm(true)
    }

    /// `rearm: false`: `TCP_NODELAY` only, the kernel's delayed ACK left as it is (for
    /// comparison: `SHIM_RUNTIME_QUICKACK=0`, the benchmark's A/B run).
    pub fn with_rearm(rearm: bool) -> QuickAckConnector {
        let mut inner = HttpConnector::new();
        inner.set_nodelay(true);
        QuickAckConnector { inner, rearm }
    }
}

impl tower_service::Service<Uri> for QuickAckConnector {
    type Response = QuickAckIo;
    type Error = <HttpConnector as tower_service::Service<Uri>>::Error;
    type Future = Pin<Box<dyn Future<Output = Result<QuickAckIo, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let rearm = self.rearm;
        Box::pin(async move { connecting.await.map(|io| QuickAckIo { io, rearm }) })
    }
}

/// A connection of [`QuickAckConnector`].
#[derive(Debug)]
pub struct QuickAckIo {
    io: TokioIo<TcpStream>,
    rearm: bool,
}

impl QuickAckIo {
    /// The TCP stream (for socket options).
    pub fn tcp(&self) -> &TcpStream {
        self.io.inner()
    }
}

/// Leave delayed-ACK ("ping-pong") mode: the next segment read is ACKed at once.
pub fn rearm_quickack(stream: &TcpStream) -> std::io::Result<()> {
    socket2::SockRef::from(stream).set_tcp_quickack(true)
}

impl Read for QuickAckIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.rearm {
            // Best effort: a failure (the socket already closed) shows in the read itself.
            let _ = rearm_quickack(self.io.inner());
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for QuickAckIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

impl Connection for QuickAckIo {
    fn connected(&self) -> Connected {
        self.io.connected()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::MaybeUninit;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tower_service::Service;

    fn quickack_on(s: &TcpStream) -> bool {
        socket2::SockRef::from(s)
            .tcp_quickack()
            .expect("getsockopt TCP_QUICKACK")
    }

    /// Read through hyper's `Read` trait, as hyper does.
    async fn read_some(io: &mut QuickAckIo) -> usize {
        let mut storage = [MaybeUninit::<u8>::uninit(); 256];
        std::future::poll_fn(|cx| {
            let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
            match Pin::new(&mut *io).poll_read(cx, buf.unfilled()) {
                Poll::Ready(r) => Poll::Ready(r.map(|()| buf.filled().len())),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
        .expect("read")
    }

    /// A request/response exchange puts a plain socket into delayed-ACK mode (`TCP_QUICKACK`
    /// reads 0 after the first round); every read of the connector's connections leaves that
    /// mode, so a response in two pieces is ACKed as soon as its first piece is read.
    #[tokio::test]
    async fn connections_leave_delayed_ack_mode_on_every_read() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            // Three clients, each: 5 rounds of a 16-byte request and a 64-byte response.
            for _ in 0..3 {
                let (mut s, _) = listener.accept().await.expect("accept");
                s.set_nodelay(true).expect("nodelay");
                let mut buf = [0u8; 16];
                for _ in 0..5 {
                    s.read_exact(&mut buf).await.expect("server read");
                    s.write_all(&[b'r'; 64]).await.expect("server write");
                }
            }
        });

        // A plain tokio connection: delayed-ACK mode after the first round (the premise).
        let mut plain = TcpStream::connect(addr).await.expect("connect");
        plain.set_nodelay(true).expect("nodelay");
        let mut modes = Vec::new();
        for _ in 0..5 {
            plain.write_all(&[b'q'; 16]).await.expect("write");
            let mut buf = [0u8; 64];
            plain.read_exact(&mut buf).await.expect("read");
            modes.push(quickack_on(&plain));
        }
        assert!(
            modes[1..].iter().any(|on| !on),
            "a plain socket never entered delayed-ACK mode: {modes:?}"
        );

        // The connector's connection: out of it after every read.
        let mut connector = QuickAckConnector::new();
        let uri: Uri = format!("http://{addr}/").parse().expect("uri");
        let mut io = connector.call(uri).await.expect("connect");
        assert!(io.tcp().nodelay().expect("TCP_NODELAY"), "TCP_NODELAY off");
        for round in 0..5 {
            std::future::poll_fn(|cx| Pin::new(&mut io).poll_write(cx, &[b'q'; 16]))
                .await
                .expect("write");
            let mut got = 0;
            while got < 64 {
                got += read_some(&mut io).await;
                assert!(
                    quickack_on(io.tcp()),
                    "round {round}: the connection is in delayed-ACK mode after a read"
                );
            }
        }

        // The same connector without re-arming (SHIM_RUNTIME_QUICKACK=0): the assertion above
        // is what tells the two apart.
        let mut off = QuickAckConnector::with_rearm(false);
        let uri: Uri = format!("http://{addr}/").parse().expect("uri");
        let mut io = off.call(uri).await.expect("connect");
        let mut modes = Vec::new();
        for _ in 0..5 {
            std::future::poll_fn(|cx| Pin::new(&mut io).poll_write(cx, &[b'q'; 16]))
                .await
                .expect("write");
            let mut got = 0;
            while got < 64 {
                got += read_some(&mut io).await;
                modes.push(quickack_on(io.tcp()));
            }
        }
        assert!(
            modes[1..].iter().any(|on| !on),
            "without re-arming, the connection never entered delayed-ACK mode: {modes:?}"
        );
        server.await.expect("server");
    }
}
