//! Gathering queued writes into batches: the one loop behind every batched
//! writer (heartbeats, presence, metrics, inventories). A writer task owns
//! the receiving end of a queue and asks [`gather`] for its next batch, so
//! a burst costs one transaction (one fsync on SQLite) per batch instead
//! of one per message.

use std::time::Duration;
use tokio::sync::mpsc;

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
