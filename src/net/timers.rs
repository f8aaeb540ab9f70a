//! Connection deadlines: a binary heap with lazy deletion.
//!
//! Each connection has at most one deadline that matters (handshake, closing handshake, or
//! ping/pong), stored in the connection. Moving a deadline pushes a new entry; entries that no longer
//! match their connection's deadline are skipped when they come up. Push and pop are O(log n), so
//! 100k connections cost a few hundred nanoseconds per timer operation and 16 bytes per entry.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::id::ConnId;

#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(u64, u64)>>,
}

impl Timers {
    /// Schedules `conn` at `deadline_ms`.
    pub(crate) fn push(&mut self, deadline_ms: u64, conn: ConnId) {
        self.heap.push(Reverse((deadline_ms, conn.as_u64())));
    }

    /// The earliest deadline (possibly stale).
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((deadline, _))| *deadline)
    }

    /// Pops one entry due at `now_ms`.
    pub(crate) fn pop_due(&mut self, now_ms: u64) -> Option<(u64, ConnId)> {
        match self.heap.peek() {
            Some(Reverse((deadline, _))) if *deadline <= now_ms => self
                .heap
                .pop()
                .map(|Reverse((deadline, conn))| (deadline, ConnId::from_u64(conn))),
            _ => None,
        }
    }

    /// Keeps only the entries `live` accepts, and gives back the memory of the rest.
    pub(crate) fn retain(&mut self, mut live: impl FnMut(u64, ConnId) -> bool) {
        let mut entries = std::mem::take(&mut self.heap).into_vec();
        entries.retain(|Reverse((deadline, conn))| live(*deadline, ConnId::from_u64(*conn)));
        entries.shrink_to_fit();
        self.heap = BinaryHeap::from(entries);
    }

    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Drops every entry and its memory (when no connection is left, all are stale).
    pub(crate) fn clear(&mut self) {
        self.heap = BinaryHeap::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_deadline_order_only_when_due() {
        let mut timers = Timers::default();
        for (deadline, id) in [(30, 3), (10, 1), (20, 2)] {
            timers.push(deadline, ConnId::from_u64(id));
        }
        assert_eq!(timers.next_deadline(), Some(10));
        assert_eq!(timers.pop_due(5), None);
        assert_eq!(timers.pop_due(25), Some((10, ConnId::from_u64(1))));
        assert_eq!(timers.pop_due(25), Some((20, ConnId::from_u64(2))));
        assert_eq!(timers.pop_due(25), None);
        assert_eq!(timers.len(), 1);
    }

    #[test]
    fn retain_drops_stale_entries_and_keeps_order() {
        let mut timers = Timers::default();
        for id in 1..=100u64 {
            timers.push(id * 10, ConnId::from_u64(id));
        }
        timers.retain(|_, conn| conn.as_u64() % 2 == 0);
        assert_eq!(timers.len(), 50);
        assert_eq!(timers.pop_due(1000), Some((20, ConnId::from_u64(2))));
        assert_eq!(timers.pop_due(1000), Some((40, ConnId::from_u64(4))));
    }
}
