//! Marker parsing: any text, no panic; every marker written reads back as itself, wherever it sits.
#![no_main]
use headroom::marker::Marker;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let found = Marker::parse_all(&text);
    assert_eq!(Marker::is_in(&text), !found.is_empty());
    for m in &found {
        assert_eq!(m.hash.len(), 24);
    }
    if data.len() < 4 {
        return;
    }
    // A marker made from the input's first bytes, put in the middle of the text, is found as it was.
    let omitted = u16::from_le_bytes([data[0], data[1]]) as usize + 1;
    let total = (data[2] % 2 == 0).then_some(omitted + data[3] as usize);
    let unit: String = text
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .take(12)
        .collect();
    let unit = if unit.is_empty() {
        "lines".to_string()
    } else {
        unit
    };
    let marker = Marker::new(omitted, total, &unit, "0123456789abcdef01234567");
    for written in [marker.to_text(), marker.to_json().to_string()] {
        let framed = format!("before\n{written}\nafter");
        assert_eq!(
            Marker::parse_all(&framed),
            vec![marker.clone()],
            "{written}"
        );
    }
});
