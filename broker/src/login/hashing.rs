//! The threads password hashes run on: one per core, fed from a queue. Argon2id at OWASP's
//! parameters is 19 MiB and tens of milliseconds of one core per hash, so a burst of sign-ins
//! (or of attempts with unknown addresses, which hash too) waits its turn in the queue instead
//! of claiming memory and threads without bound. Each thread keeps its Argon2 memory from one
//! hash to the next (allocating and zeroing 19 MiB per attempt cost a fifth of the machine in
//! kernel time) until it has been idle for half a minute, and the next hash starts the moment
//! one ends. The queue is crossbeam's: every thread waits on it with its own idle timeout (a
//! std receiver shared behind a mutex let only the thread holding the lock time out, so the
//! others kept their memory for as long as the server was quiet).

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use argon2::Block;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};

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
        Self::start_with(threads, KEEP_MEMORY_IDLE)
    }

    /// Starts `threads` threads that give their memory back after `keep_idle` without work.
    fn start_with(threads: usize, keep_idle: Duration) -> Result<Self> {
        let (queue, jobs) = unbounded::<Job>();
        for i in 0..threads {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&jobs, keep_idle))
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
fn work(jobs: &Receiver<Job>, keep_idle: Duration) {
    let mut memory = Vec::new();
    loop {
        match jobs.recv_timeout(keep_idle) {
            Ok(job) => {
                let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
            }
            Err(RecvTimeoutError::Timeout) => memory = Vec::new(),
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use super::*;

    /// Runs one job on each of `pool`'s two threads at once (each waits for the other), and
    /// returns the Argon2 memory each thread had when its job started.
    async fn on_both_threads(pool: &HashPool, grow_to: usize) -> Vec<usize> {
        let together = Arc::new(Barrier::new(2));
        let job = |together: Arc<Barrier>| {
            move |memory: &mut Vec<Block>| {
                together.wait();
                let had = memory.len();
                memory.resize(grow_to, Block::default());
                had
            }
        };
        let (first, second) =
            tokio::join!(pool.run(job(together.clone())), pool.run(job(together)));
        vec![first.unwrap(), second.unwrap()]
    }

    #[tokio::test]
    async fn every_thread_keeps_its_memory_between_hashes_and_gives_it_back_when_idle() {
        let pool = HashPool::start_with(2, Duration::from_millis(200)).unwrap();
        assert_eq!(on_both_threads(&pool, 64).await, [0, 0]);
        assert_eq!(
            on_both_threads(&pool, 64).await,
            [64, 64],
            "reused while busy"
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(
            on_both_threads(&pool, 64).await,
            [0, 0],
            "both gave it back"
        );
    }
}
