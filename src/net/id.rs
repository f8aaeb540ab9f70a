//! Generation-checked identifiers: a stale or made-up id is an error, never another connection.

use std::fmt;

/// Identifies a connection of a [`crate::net::Context`]. The low 32 bits are the slot index + 1
/// (so 0 is never valid), the high 32 bits the slot's generation, which changes every time the slot
/// is reused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub(crate) u64);

impl ConnId {
    pub(crate) fn new(index: u32, generation: u32) -> Self {
        Self((u64::from(generation) << 32) | (u64::from(index) + 1))
    }

    /// The id as a plain integer (never 0), e.g. for the C ABI.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// Rebuilds an id from [`ConnId::as_u64`]. Any value is accepted; the context checks it.
    pub fn from_u64(raw: u64) -> Self {
        Self(raw)
    }

    pub(crate) fn index(self) -> Option<usize> {
        let low = (self.0 & 0xFFFF_FFFF) as usize;
        low.checked_sub(1)
    }

    pub(crate) fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

impl fmt::Debug for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index() {
            Some(index) => write!(f, "ConnId({}#{})", index, self.generation()),
            None => write!(f, "ConnId(invalid {:#x})", self.0),
        }
    }
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Identifies a listener of a [`crate::net::Context`] (index + 1; 0 is never valid).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ListenerId(pub(crate) u32);

impl ListenerId {
    /// The id as a plain integer (never 0).
    pub fn as_u32(self) -> u32 {
        self.0
    }

    /// Rebuilds an id from [`ListenerId::as_u32`]; the context checks it.
    pub fn from_u32(raw: u32) -> Self {
        Self(raw)
    }
}

/// A slab of values addressed by generation-checked ids. Freed slots are reused, newest first.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

impl<T> Slab<T> {
    pub(crate) fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Inserts a value built from its id.
    pub(crate) fn insert_with(&mut self, make: impl FnOnce(ConnId) -> T) -> ConnId {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    value: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        let id = ConnId::new(index, slot.generation);
        slot.value = Some(make(id));
        self.len += 1;
        id
    }

    pub(crate) fn get(&self, id: ConnId) -> Option<&T> {
        let slot = self.slots.get(id.index()?)?;
        if slot.generation == id.generation() {
            slot.value.as_ref()
        } else {
            None
        }
    }

    pub(crate) fn get_mut(&mut self, id: ConnId) -> Option<&mut T> {
        let slot = self.slots.get_mut(id.index()?)?;
        if slot.generation == id.generation() {
            slot.value.as_mut()
        } else {
            None
        }
    }

    /// The id of the value in slot `index`, if any (for tokens, which carry only the index).
    pub(crate) fn id_at(&self, index: usize) -> Option<ConnId> {
        let slot = self.slots.get(index)?;
        slot.value
            .as_ref()
            .map(|_| ConnId::new(index as u32, slot.generation))
    }

    pub(crate) fn remove(&mut self, id: ConnId) -> Option<T> {
        let index = id.index()?;
        let slot = self.slots.get_mut(index)?;
        if slot.generation != id.generation() {
            return None;
        }
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index as u32);
        self.len -= 1;
        Some(value)
    }

    pub(crate) fn ids(&self) -> Vec<ConnId> {
        (0..self.slots.len()).filter_map(|i| self.id_at(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_and_made_up_ids_find_nothing() {
        let mut slab = Slab::new();
        let a = slab.insert_with(|_| "a");
        assert_ne!(a.as_u64(), 0);
        assert_eq!(slab.get(a), Some(&"a"));
        assert_eq!(slab.remove(a), Some("a"));
        let b = slab.insert_with(|_| "b");
        assert_eq!(a.index(), b.index(), "slot reused");
        assert_eq!(slab.get(a), None, "stale id does not reach the new value");
        assert_eq!(slab.remove(a), None);
        assert_eq!(slab.get(ConnId::from_u64(0)), None);
        assert_eq!(slab.get(ConnId::from_u64(u64::MAX)), None);
        assert_eq!(slab.get(ConnId::from_u64(b.as_u64() + 1)), None);
        assert_eq!(slab.len(), 1);
    }
}
