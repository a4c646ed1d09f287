//! A real SMTP server (the `mailin-embedded` crate) that keeps what it receives, so tests can
//! read the links and codes Tessera mails. It listens on a loopback port chosen by the OS and
//! lives on its own thread for the rest of the test process.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailin_embedded::{Handler, Response, Server, response};

/// One received message: recipients and the raw RFC 5322 text.
#[derive(Debug, Clone)]
pub struct Received {
    /// RCPT TO addresses.
    pub to: Vec<String>,
    /// The message as sent (headers and body, quoted-printable decoded).
    pub raw: String,
}

#[derive(Clone, Default)]
struct Collector {
    inbox: Arc<Mutex<Vec<Received>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let raw = decode_quoted_printable(&String::from_utf8_lossy(&self.data));
        if let Ok(mut inbox) = self.inbox.lock() {
            inbox.push(Received {
                to: std::mem::take(&mut self.to),
                raw,
            });
        }
        response::OK
    }
}

/// Undoes quoted-printable soft breaks and `=XX` escapes (lettre encodes long lines).
fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The sink.
#[derive(Clone)]
pub struct SmtpSink {
    inbox: Arc<Mutex<Vec<Received>>>,
    port: u16,
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink")
            .field("port", &self.port)
            .finish()
    }
}

impl SmtpSink {
    /// Starts a sink on a free loopback port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind smtp sink");
        let port = listener.local_addr().expect("sink address").port();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let handler = Collector {
            inbox: inbox.clone(),
            ..Collector::default()
        };
        let mut server = Server::new(handler);
        server
            .with_name("sink.test")
            .with_tcp_listener(listener)
            .with_num_threads(2);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Self { inbox, port }
    }

    /// `smtp://127.0.0.1:PORT` for `TESSERA_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far.
    pub fn all(&self) -> Vec<Received> {
        self.inbox.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Waits up to ten seconds for the `n`-th message (1-based) to `to`.
    pub async fn wait_for(&self, to: &str, n: usize) -> Received {
        for _ in 0..200 {
            let mine: Vec<Received> = self
                .all()
                .into_iter()
                .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
                .collect();
            if mine.len() >= n {
                return mine[n - 1].clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no message #{n} for {to} arrived; got {:?}", self.all());
    }
}

impl Received {
    /// The sign-in link in the message.
    pub fn link(&self) -> String {
        let start = self.raw.find("http").expect("a link in the mail");
        self.raw[start..]
            .split(|c: char| c.is_whitespace() || c == '"' || c == '<')
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// The six-digit code in the message.
    pub fn code(&self) -> String {
        let at = self
            .raw
            .find("enter this code there: ")
            .expect("a code in the mail");
        self.raw[at + 23..at + 29].to_owned()
    }
}
