//! [`GlobEngine`]: how an index matches topics against its globs.

/// How a [`PatternIndex`](super::PatternIndex) matches topics against its globs, set with
/// [`PatternIndexBuilder::glob_engine`](super::PatternIndexBuilder::glob_engine).
///
/// Both give the same answers; they differ in what they keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum GlobEngine {
    /// The trie walk, plus a lazy DFA per thread that caches the walk's steps for topics
    /// seen twice: a topic seen before costs one hash probe per segment. Each thread that
    /// looks topics up keeps a cache of at most about 5 MiB for the life of the index.
    #[default]
    LazyDfa,
    /// The trie walk alone: keeps nothing, for an index looked up from very many threads,
    /// or by topics that rarely repeat.
    Walk,
}
