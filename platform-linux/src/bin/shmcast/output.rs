//! Output formatting: JSON written by hand (strings escaped per RFC 8259),
//! payloads as escaped text or hex, and human-sized numbers.

use std::fmt::Write as _;

/// `s` as a JSON string literal, quotes included: `"` and `\` escaped, every
/// control character as `\n`, `\t`, ... or `\u00XX`.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON object built field by field, in order.
#[derive(Debug, Default)]
pub struct JsonObject {
    body: String,
}

impl JsonObject {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    fn key(&mut self, key: &str) {
        if !self.body.is_empty() {
            self.body.push(',');
        }
        self.body.push_str(&json_str(key));
        self.body.push(':');
    }

    /// A string field.
    pub fn str(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        self.body.push_str(&json_str(value));
        self
    }

    /// A number field.
    pub fn num(mut self, key: &str, value: u64) -> Self {
        self.key(key);
        let _ = write!(self.body, "{value}");
        self
    }

    /// A number field that may be absent (`null`).
    pub fn opt_num(mut self, key: &str, value: Option<u64>) -> Self {
        self.key(key);
        match value {
            Some(v) => {
                let _ = write!(self.body, "{v}");
            }
            None => self.body.push_str("null"),
        }
        self
    }

    /// A boolean field.
    pub fn bool(mut self, key: &str, value: bool) -> Self {
        self.key(key);
        self.body.push_str(if value { "true" } else { "false" });
        self
    }

    /// A boolean field that may be unknown (`null`).
    pub fn opt_bool(mut self, key: &str, value: Option<bool>) -> Self {
        self.key(key);
        self.body.push_str(match value {
            Some(true) => "true",
            Some(false) => "false",
            None => "null",
        });
        self
    }

    /// A field holding JSON written elsewhere (an object or array).
    pub fn raw(mut self, key: &str, json: &str) -> Self {
        self.key(key);
        self.body.push_str(json);
        self
    }

    /// The object's text.
    pub fn finish(self) -> String {
        format!("{{{}}}", self.body)
    }
}

/// A JSON array of values already written as JSON.
pub fn json_array(items: &[String]) -> String {
    format!("[{}]", items.join(","))
}

/// Bytes as lower-case hex, no separators.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A payload as one line of text: valid UTF-8 as is, except control
/// characters (tab aside) and invalid bytes, which become `\xNN`, and `\`,
/// which becomes `\\`; so nothing from the ring can drive the terminal, and
/// the output can be read back without ambiguity.
pub fn escape_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push('\t'),
                c if c.is_control() => {
                    let mut b = [0u8; 4];
                    for byte in c.encode_utf8(&mut b).bytes() {
                        let _ = write!(out, "\\x{byte:02x}");
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// A byte count in binary units: `512 B`, `64 KiB`, `1.5 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Nanoseconds, in the unit that reads best: `850 ns`, `12.3 us`, `4.56 ms`, `1.20 s`.
pub fn duration_ns(ns: u64) -> String {
    match ns {
        0..1_000 => format!("{ns} ns"),
        1_000..1_000_000 => format!("{:.1} us", ns as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.2} ms", ns as f64 / 1e6),
        _ => format!("{:.2} s", ns as f64 / 1e9),
    }
}

/// A count with thousands separators: `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate, rounded to three significant figures with a k/M/G suffix.
pub fn rate(per_sec: f64) -> String {
    let (v, suffix) = if per_sec >= 1e9 {
        (per_sec / 1e9, "G")
    } else if per_sec >= 1e6 {
        (per_sec / 1e6, "M")
    } else if per_sec >= 1e3 {
        (per_sec / 1e3, "k")
    } else {
        (per_sec, "")
    };
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$}{suffix}")
}

/// How a ring lays its records out, in the words `create`, `stat` and
/// `bench` print.
pub fn records(line_aligned: bool) -> &'static str {
    if line_aligned {
        "line-aligned"
    } else {
        "packed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("plain"), r#""plain""#);
        assert_eq!(json_str("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(json_str("l1\nl2\t\r"), r#""l1\nl2\t\r""#);
        assert_eq!(json_str("\u{0}\u{1f}\u{7f}"), r#""\u0000\u001f\u007f""#);
        assert_eq!(json_str("é✓"), "\"é✓\"");
    }

    #[test]
    fn json_objects() {
        let o = JsonObject::new()
            .str("name", "x\"y")
            .num("n", 3)
            .opt_num("none", None)
            .bool("ok", true)
            .opt_bool("maybe", None)
            .raw("list", &json_array(&["1".into(), "2".into()]))
            .finish();
        assert_eq!(
            o,
            r#"{"name":"x\"y","n":3,"none":null,"ok":true,"maybe":null,"list":[1,2]}"#
        );
        assert_eq!(JsonObject::new().finish(), "{}");
    }

    #[test]
    fn text_escapes_control_and_invalid_bytes() {
        assert_eq!(escape_text(b"hello world"), "hello world");
        assert_eq!(escape_text(b"a\tb"), "a\tb");
        assert_eq!(escape_text(b"\x1b[2J"), "\\x1b[2J");
        assert_eq!(escape_text(b"a\\b"), "a\\\\b");
        assert_eq!(escape_text(b"\xff\xfeok"), "\\xff\\xfeok");
        assert_eq!(escape_text("é".as_bytes()), "é");
        assert_eq!(escape_text("\u{85}".as_bytes()), "\\xc2\\x85");
    }

    #[test]
    fn numbers() {
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(65536), "64 KiB");
        assert_eq!(bytes(1536 * 1024), "1.5 MiB");
        assert_eq!(duration_ns(850), "850 ns");
        assert_eq!(duration_ns(12_345), "12.3 us");
        assert_eq!(duration_ns(1_200_000_000), "1.20 s");
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(rate(1_234_567.0), "1.23M");
        assert_eq!(rate(950.0), "950");
        assert_eq!(rate(45_600.0), "45.6k");
    }
}
