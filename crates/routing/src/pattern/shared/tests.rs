//! Unit tests of the shared index: copy-on-write updates, failed updates, readers during
//! writes, and recovery after a writer panicked.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
    thread,
};

use crate::pattern::{PatternError, SharedPatternIndex};

#[test]
fn updates_replace_the_index_and_old_loads_stay_valid() {
    let shared = SharedPatternIndex::default();
    let before = shared.load_full();
    let id = shared
        .update(|builder| builder.insert("a.*", 0, 1))
        .unwrap();
    assert!(before.is_empty());
    assert_eq!(shared.load().find_first("a.b").map(|m| m.id), Some(id));
}

#[test]
fn a_failed_update_changes_nothing() {
    let shared = SharedPatternIndex::default();
    shared
        .update(|builder| builder.insert("a.*", 0, 1))
        .unwrap();
    let result = shared.update(|builder| {
        builder.insert("b.*", 0, 2)?;
        builder.insert("c..d", 0, 3)
    });
    assert!(matches!(result, Err(PatternError::EmptySegment { .. })));
    assert_eq!(shared.load().len(), 1);
}

#[test]
fn readers_see_whole_indexes_while_writers_run() {
    let shared = Arc::new(SharedPatternIndex::default());
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                for i in 0..50 {
                    // Two entries per update: a reader must never see one without the other.
                    shared
                        .update(|builder| {
                            builder.insert(&format!("w{w}.{i}.*"), 0, i)?;
                            builder.insert(&format!("w{w}.{i}.**"), 0, i)
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    let reader = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            for _ in 0..500 {
                let index = shared.load();
                assert_eq!(index.len() % 2, 0);
            }
        })
    };
    for writer in writers {
        writer.join().unwrap();
    }
    reader.join().unwrap();
    // No update was lost.
    assert_eq!(shared.load().len(), 200);
}

#[test]
fn a_panicking_writer_does_not_block_the_next() {
    let shared = SharedPatternIndex::<u32>::default();
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        shared.update(|_| -> Result<(), PatternError> { panic!("writer bug") })
    }));
    assert!(panicked.is_err());
    shared.update(|builder| builder.insert("a", 0, 1)).unwrap();
    assert_eq!(shared.load().len(), 1);
}
