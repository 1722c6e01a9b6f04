//! Canonical JSON as Notary signs it (`github.com/docker/go/canonical/json`): the `signed`
//! object is decoded into generic values and encoded again with object keys sorted (byte
//! order), no whitespace, and strings escaped only where JSON requires it (`"` and `\`; every
//! other byte, control characters and non-ASCII included, as it is).
//!
//! Numbers go through Go's `float64`, as Notary decodes into `interface{}`: they must be
//! whole (a fraction, like an infinity, cannot be encoded and so cannot have been signed) and
//! are written as the integer the float holds.

use serde_json::Value;

/// The canonical bytes of `value`, or why it has none.
pub(crate) fn encode(value: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(1024);
    write(value, &mut out)?;
    Ok(out)
}

fn write(value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => {
            let float = number
                .as_f64()
                .ok_or_else(|| format!("the number {number} is not representable"))?;
            if !float.is_finite() || float.floor() != float {
                return Err(format!(
                    "the number {number} is not whole, so it has no canonical form"
                ));
            }
            // Go's int64(f): saturating at the ends, as the conversion is in practice.
            out.extend_from_slice((float as i64).to_string().as_bytes());
        }
        Value::String(text) => string(text, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string(key, out);
                out.push(b':');
                if let Some(item) = map.get(key) {
                    write(item, out)?;
                }
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn string(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for &byte in text.as_bytes() {
        if byte == b'"' || byte == b'\\' {
            out.push(b'\\');
        }
        out.push(byte);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(json: &str) -> String {
        let value: Value = serde_json::from_str(json).unwrap();
        String::from_utf8(encode(&value).unwrap()).unwrap()
    }

    #[test]
    fn sorts_keys_by_bytes_and_drops_whitespace() {
        assert_eq!(
            canonical(r#"{ "b": 1, "a": [true, null, {"Z": 2, "_": 3, "z": 4}], "B": "x" }"#),
            r#"{"B":"x","a":[true,null,{"Z":2,"_":3,"z":4}],"b":1}"#
        );
    }

    #[test]
    fn escapes_only_quote_and_backslash() {
        // `<`, `&`, a newline and U+2028 stay raw, unlike Go's ordinary encoder.
        assert_eq!(
            canonical(r#"{"k":"a\"b\\c<&>\n\u2028é"}"#),
            "{\"k\":\"a\\\"b\\\\c<&>\n\u{2028}é\"}"
        );
    }

    #[test]
    fn numbers_are_whole_as_go_float64_holds_them() {
        assert_eq!(
            canonical(r#"{"n":1.0e3,"m":-0,"v":2}"#),
            r#"{"m":0,"n":1000,"v":2}"#
        );
        // Past 2^53 a float64 cannot hold every integer: Go signs the rounded value.
        assert_eq!(canonical("9007199254740993"), "9007199254740992");
        for bad in ["1.5", "{\"x\":0.1}"] {
            let value: Value = serde_json::from_str(bad).unwrap();
            assert!(encode(&value).is_err(), "{bad}");
        }
    }
}
