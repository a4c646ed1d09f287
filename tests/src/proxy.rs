//! A TCP proxy the test controls, put between Tessera and a server it depends on (PostgreSQL)
//! so a test can take that server away and give it back without touching the shared one.
//! `cut` closes every connection through the proxy and stops listening (new connections are
//! refused, as when the server is down); `restore` listens again on the same port.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy's thread reports back.
#[derive(Debug, Default)]
struct Status {
    listening: AtomicBool,
    connections: AtomicUsize,
}

/// The proxy; it runs on its own thread (with its own runtime) until dropped.
#[derive(Debug)]
pub struct TcpProxy {
    /// The port Tessera connects to.
    pub port: u16,
    up: watch::Sender<bool>,
    status: Arc<Status>,
}

impl TcpProxy {
    /// Starts forwarding a free loopback port to `target`.
    pub fn start(target: SocketAddr) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, watching) = watch::channel(true);
        let status = Arc::new(Status::default());
        status.listening.store(true, Ordering::SeqCst);
        let shared = status.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(serve(listener, target, watching, shared));
        });
        Self { port, up, status }
    }

    /// Takes the server away: closes every open connection and refuses new ones.
    pub async fn cut(&self) {
        self.up.send_replace(false);
        self.settle(|s| {
            !s.listening.load(Ordering::SeqCst) && s.connections.load(Ordering::SeqCst) == 0
        })
        .await;
    }

    /// Gives the server back: accepts connections again on the same port.
    pub async fn restore(&self) {
        self.up.send_replace(true);
        self.settle(|s| s.listening.load(Ordering::SeqCst)).await;
    }

    async fn settle(&self, done: impl Fn(&Status) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(&self.status) {
            assert!(Instant::now() < deadline, "the proxy did not settle");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn serve(
    first: std::net::TcpListener,
    target: SocketAddr,
    mut up: watch::Receiver<bool>,
    status: Arc<Status>,
) {
    let port = first.local_addr().unwrap().port();
    let mut listener = Some(TcpListener::from_std(first).unwrap());
    loop {
        if let Some(open) = &listener {
            tokio::select! {
                accepted = open.accept() => {
                    if let Ok((client, _)) = accepted {
                        status.connections.fetch_add(1, Ordering::SeqCst);
                        tokio::spawn(pipe(client, target, up.clone(), status.clone()));
                    }
                }
                changed = up.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    if !*up.borrow_and_update() {
                        listener = None;
                        status.listening.store(false, Ordering::SeqCst);
                    }
                }
            }
        } else {
            if up.changed().await.is_err() {
                return;
            }
            if *up.borrow_and_update() {
                listener = Some(rebind(port).await);
                status.listening.store(true, Ordering::SeqCst);
            }
        }
    }
}

/// Listens on `port` again (the old socket may linger for a moment).
async fn rebind(port: u16) -> TcpListener {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => return listener,
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "the proxy cannot listen on {port} again: {e}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// Forwards one connection until either side closes or the proxy is cut (then both sockets
/// are dropped, which closes them).
async fn pipe(
    mut client: TcpStream,
    target: SocketAddr,
    mut up: watch::Receiver<bool>,
    status: Arc<Status>,
) {
    if *up.borrow_and_update()
        && let Ok(mut server) = TcpStream::connect(target).await
    {
        let cut = async {
            while up.changed().await.is_ok() {
                if !*up.borrow_and_update() {
                    return;
                }
            }
        };
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
            () = cut => {}
        }
    }
    drop(client);
    status.connections.fetch_sub(1, Ordering::SeqCst);
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        // Closing the channel ends the proxy's loop and every pipe.
        self.up.send_replace(false);
    }
}
