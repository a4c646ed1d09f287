//! The threads password hashes run on: one per core, fed from a queue. Argon2id at OWASP's
//! parameters is 19 MiB and tens of milliseconds of one core per hash, so a burst of sign-ins
//! (or of attempts with unknown addresses, which hash too) waits its turn in the queue instead
//! of claiming memory and threads without bound. Each thread keeps its Argon2 memory from one
//! hash to the next (allocating and zeroing 19 MiB per attempt cost a fifth of the machine in
//! kernel time) until it has been idle for half a minute, and the next hash starts the moment
//! one ends.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::Block;

use crate::error::{Error, Result};

/// Work for a hashing thread, given the thread's Argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// A fixed set of hashing threads; they stop when the pool is dropped.
#[derive(Debug)]
pub(crate) struct HashPool {
    queue: Sender<Job>,
}

impl HashPool {
    /// Starts one thread per core.
    pub(crate) fn start() -> Result<Self> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (queue, jobs) = channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        for i in 0..threads {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&jobs))
                .map_err(|e| Error::internal(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(Self { queue })
    }

    /// Runs `job` on a hashing thread, with that thread's memory, and waits for its result.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T> {
        let (answer, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = answer.send(job(memory));
        });
        self.queue
            .send(job)
            .map_err(|_| Error::internal("the hashing threads have stopped"))?;
        result
            .await
            .map_err(|_| Error::internal("a password hash did not finish"))
    }
}

/// How long a hashing thread keeps its Argon2 memory without work: a burst of sign-ins reuses
/// it, a quiet server gives the 19 MiB per thread back.
const KEEP_MEMORY_IDLE: Duration = Duration::from_secs(30);

/// A hashing thread: takes jobs until the pool is gone. A job that panics loses its answer
/// (its caller gets an error), not the thread.
fn work(jobs: &Mutex<Receiver<Job>>) {
    let mut memory = Vec::new();
    loop {
        let next = match jobs.lock() {
            Ok(jobs) => jobs.recv_timeout(KEEP_MEMORY_IDLE),
            Err(poisoned) => poisoned.into_inner().recv_timeout(KEEP_MEMORY_IDLE),
        };
        match next {
            Ok(job) => {
                let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
            }
            Err(RecvTimeoutError::Timeout) => memory = Vec::new(),
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
