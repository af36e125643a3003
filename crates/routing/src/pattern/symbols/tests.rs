//! Unit tests of the symbol table.

use super::Symbols;

#[test]
fn short_and_long_texts_get_distinct_numbers() {
    let mut symbols = Symbols::new();
    let texts = [
        "",
        "a",
        "a\0",
        "tenant12345",
        "exactly15bytes!",
        "sixteen-bytes-xx",
        "é",
    ];
    let numbers: Vec<u32> = texts.iter().map(|text| symbols.intern(text)).collect();
    assert_eq!(numbers, [0, 1, 2, 3, 4, 5, 6]);
    for (text, number) in texts.iter().zip(&numbers) {
        assert_eq!(symbols.get(text), Some(*number));
        assert_eq!(symbols.intern(text), *number);
    }
    assert_eq!(symbols.get("b"), None);
    assert_eq!(symbols.get("sixteen-bytes-xy"), None);
}

#[test]
fn inline_keys_tell_every_short_text_apart() {
    // Texts of every inline length that differ in one byte only, at every position.
    let mut symbols = Symbols::new();
    let mut texts = Vec::new();
    for len in 0..=16 {
        let base: String = "abcdefghijklmnop".chars().take(len).collect();
        texts.push(base.clone());
        for at in 0..len {
            let mut bytes = base.clone().into_bytes();
            bytes[at] = b'Z';
            texts.push(String::from_utf8(bytes).unwrap());
        }
        texts.push(format!("{base}\0"));
    }
    texts.sort();
    texts.dedup();
    let numbers: Vec<u32> = texts.iter().map(|text| symbols.intern(text)).collect();
    let expected: Vec<u32> = (0..texts.len() as u32).collect();
    assert_eq!(numbers, expected, "two texts share a number");
}
