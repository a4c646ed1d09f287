//! A small authoritative DNS server on loopback whose TXT answers the test controls, so domain
//! verification runs through Tessera's real resolver code against real DNS packets.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::net::UdpSocket;

/// A running test DNS server; stops when dropped.
#[derive(Debug)]
pub struct TestDns {
    /// Where it listens (UDP).
    pub addr: SocketAddr,
    records: Arc<Mutex<HashMap<String, Vec<String>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl TestDns {
    /// Starts the server on 127.0.0.1 with an ephemeral port.
    pub async fn start() -> anyhow::Result<Self> {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        let addr = socket.local_addr()?;
        let records: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
        let shared = records.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 1500];
            loop {
                let Ok((len, peer)) = socket.recv_from(&mut buf).await else {
                    return;
                };
                if let Some(answer) = answer(&buf[..len], &shared) {
                    let _ = socket.send_to(&answer, peer).await;
                }
            }
        });
        Ok(Self {
            addr,
            records,
            task,
        })
    }

    /// Publishes a TXT record (in addition to any already at `name`).
    pub fn add_txt(&self, name: &str, value: &str) {
        let key = name.trim_end_matches('.').to_ascii_lowercase();
        self.records
            .lock()
            .unwrap()
            .entry(key)
            .or_default()
            .push(value.to_owned());
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(query: &[u8], records: &Mutex<HashMap<String, Vec<String>>>) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    let question = request.queries.first()?.clone();
    let name = question.name().to_ascii();
    let key = name.trim_end_matches('.').to_ascii_lowercase();
    let values = records.lock().unwrap().get(&key).cloned();
    let mut response = Message::new(
        request.metadata.id,
        MessageType::Response,
        request.metadata.op_code,
    );
    response.metadata.authoritative = true;
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.add_query(question.clone());
    match values {
        Some(values) if question.query_type() == RecordType::TXT => {
            for value in values {
                response.add_answer(Record::from_rdata(
                    question.name().clone(),
                    60,
                    RData::TXT(TXT::new(vec![value])),
                ));
            }
        }
        Some(_) => {}
        None => response.metadata.response_code = ResponseCode::NXDomain,
    }
    response.to_vec().ok()
}
