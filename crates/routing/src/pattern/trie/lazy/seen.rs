//! [`Seen`]: a bounded memory of the topics seen lately, by hash, for the lazy DFA's
//! admission of a topic on its second sight.

/// Bits of each generation: 8 KiB.
const BITS: usize = 1 << 16;

/// New topics per generation. By the end of one, a fifth of its bits are set, and a topic
/// never seen passes for seen about one time in twenty (one in sixty on average over the
/// generation, twice that counting the previous one): its steps are then cached a sight
/// early, which costs room, never an answer.
const GENERATION: usize = 1 << 13;

/// Two Bloom filters of two bits per topic: the current generation, which takes new
/// topics, and the previous one, still read. When the current one has taken
/// [`GENERATION`] topics it becomes the previous one and a new one starts, so a topic is
/// remembered for at least one generation after its sight, whenever that came; and unlike
/// a table of hashes, two topics cannot keep pushing each other out.
pub(super) struct Seen {
    current: Box<[u64]>,
    previous: Box<[u64]>,
    /// Topics the current generation has taken.
    count: usize,
}

impl Seen {
    pub(super) fn new() -> Self {
        Self {
            current: vec![0; BITS / 64].into_boxed_slice(),
            previous: vec![0; BITS / 64].into_boxed_slice(),
            count: 0,
        }
    }

    /// Whether the topic of `hash` was seen lately; remembers it if not.
    pub(super) fn check_and_insert(&mut self, hash: u64) -> bool {
        let bits = [hash as usize % BITS, (hash >> 32) as usize % BITS];
        let holds = |filter: &[u64]| {
            bits.iter()
                .all(|&bit| filter[bit / 64] & 1 << (bit % 64) != 0)
        };
        if holds(&self.current) || holds(&self.previous) {
            return true;
        }
        if self.count == GENERATION {
            std::mem::swap(&mut self.current, &mut self.previous);
            self.current.fill(0);
            self.count = 0;
        }
        self.count += 1;
        for bit in bits {
            self.current[bit / 64] |= 1 << (bit % 64);
        }
        false
    }
}

#[cfg(test)]
mod tests;
