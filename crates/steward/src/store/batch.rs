//! Gathering queued writes into batches: the one queue behind every batched
//! writer (heartbeats, presence, metrics, inventories). A [`Queue`]'s task
//! asks [`gather`] for its next batch and hands it to the writer's own
//! function, so a burst costs one transaction (one fsync on SQLite) per
//! batch instead of one per message; [`Queue::flush`] lets a clean stop
//! write what is still queued.

use std::future::Future;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How a writer's queue gathers its batches.
#[derive(Clone, Copy)]
pub struct Batching {
    /// Items the queue holds before senders wait (or `try_send` refuses).
    pub capacity: usize,
    /// How long a batch gathers after its first item.
    pub every: Duration,
    /// A batch ends once its items weigh this much.
    pub max: usize,
}

enum Msg<T> {
    Item(T),
    /// Write what is queued before this, then answer.
    Flush(oneshot::Sender<()>),
}

/// The sending side of a batched writer; its task ends when every sender
/// is dropped and the queue is empty.
pub struct Queue<T>(mpsc::Sender<Msg<T>>);

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue(self.0.clone())
    }
}

impl<T: Send + 'static> Queue<T> {
    /// Starts the task that gathers batches and hands each to `write`.
    /// `weight` says how much an item counts toward `Batching::max`.
    pub fn spawn<W, F>(b: Batching, weight: fn(&T) -> usize, mut write: W) -> Queue<T>
    where
        W: FnMut(Vec<T>) -> F + Send + 'static,
        F: Future<Output = ()> + Send,
    {
        let (tx, mut rx) = mpsc::channel(b.capacity);
        // A flush request weighs a whole batch: it ends the gathering at once.
        let weigh = move |m: &Msg<T>| match m {
            Msg::Item(item) => weight(item),
            Msg::Flush(_) => b.max,
        };
        tokio::spawn(async move {
            while let Some(msgs) = gather(&mut rx, b.every, b.max, weigh).await {
                let mut items = Vec::with_capacity(msgs.len());
                let mut waiting = vec![];
                for m in msgs {
                    match m {
                        Msg::Item(item) => items.push(item),
                        Msg::Flush(done) => waiting.push(done),
                    }
                }
                if !items.is_empty() {
                    write(items).await;
                }
                for done in waiting {
                    let _ = done.send(());
                }
            }
        });
        Queue(tx)
    }

    /// Queues an item, waiting while the queue is full; false if the
    /// writer is gone.
    pub async fn send(&self, item: T) -> bool {
        self.0.send(Msg::Item(item)).await.is_ok()
    }

    /// Queues an item unless the queue is full; false if it was not queued.
    pub fn try_send(&self, item: T) -> bool {
        self.0.try_send(Msg::Item(item)).is_ok()
    }

    /// Returns once everything queued before it is written.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.0.send(Msg::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// Waits for the first item, then gathers more for up to `every`, or
/// until the gathered weight reaches `max`. `None` once the queue is
/// closed and empty; a closing queue hands over what it still holds first.
pub async fn gather<T>(rx: &mut mpsc::Receiver<T>, every: Duration, max: usize, weight: impl Fn(&T) -> usize) -> Option<Vec<T>> {
    let first = rx.recv().await?;
    let mut total = weight(&first);
    let mut batch = vec![first];
    let deadline = tokio::time::sleep(every);
    tokio::pin!(deadline);
    while total < max {
        tokio::select! {
            next = rx.recv() => match next {
                Some(item) => {
                    total += weight(&item);
                    batch.push(item);
                }
                None => break,
            },
            _ = &mut deadline => break,
        }
    }
    Some(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_batch_ends_at_its_weight_or_its_time() {
        let (tx, mut rx) = mpsc::channel(16);
        for w in [2, 2, 2, 1] {
            tx.send(w).await.unwrap();
        }
        // Full at weight 5: the third item tips it over and is included.
        assert_eq!(gather(&mut rx, Duration::from_secs(1), 5, |w| *w).await, Some(vec![2, 2, 2]));
        // The rest waits out the time, then goes as it is.
        let started = tokio::time::Instant::now();
        assert_eq!(gather(&mut rx, Duration::from_secs(1), 5, |w| *w).await, Some(vec![1]));
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        // A closed queue gives what it held, then None.
        tx.send(3).await.unwrap();
        drop(tx);
        assert_eq!(gather(&mut rx, Duration::from_secs(1), 5, |w| *w).await, Some(vec![3]));
        assert_eq!(gather(&mut rx, Duration::from_secs(1), 5, |w| *w).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_flush_writes_what_is_queued_without_waiting_out_the_batch() {
        let (written_tx, mut written) = mpsc::unbounded_channel();
        let b = Batching { capacity: 16, every: Duration::from_secs(3600), max: 100 };
        let q = Queue::spawn(
            b,
            |_: &u32| 1,
            move |batch: Vec<u32>| {
                let written_tx = written_tx.clone();
                async move {
                    written_tx.send(batch).unwrap();
                }
            },
        );
        assert!(q.send(1).await && q.try_send(2));
        let started = tokio::time::Instant::now();
        q.flush().await;
        assert_eq!(started.elapsed(), Duration::ZERO, "a flush ends the gathering at once");
        assert_eq!(written.try_recv().unwrap(), vec![1, 2]);
        // Nothing queued: a flush answers and writes no empty batch.
        q.flush().await;
        assert!(written.try_recv().is_err());
        // The task ends with the last sender.
        drop(q);
        assert!(written.recv().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_queue_costs_nothing_until_something_comes() {
        let (tx, mut rx) = mpsc::channel(16);
        let late = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            tx.send(7).await.unwrap();
            tx
        });
        let started = tokio::time::Instant::now();
        assert_eq!(gather(&mut rx, Duration::from_millis(100), 10, |_| 1).await, Some(vec![7]));
        // An hour of waiting for the first item, then the gathering time.
        assert_eq!(started.elapsed(), Duration::from_secs(3600) + Duration::from_millis(100));
        drop(late.await.unwrap());
    }
}
