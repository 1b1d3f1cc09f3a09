//! CSV rows: splitting one line into cells (RFC 4180 quoting within a line; a quoted
//! field cannot span lines), checking a header, and writing a cell as a JSON value
//! (numbers stay numbers, empty cells are null, the rest are strings).

use super::json_text::{write_i64, write_json_string};

pub(crate) fn split_csv(
    line: &[u8],
    cells: &mut Vec<u8>,
    ends: &mut Vec<usize>,
) -> Result<(), String> {
    cells.clear();
    ends.clear();
    let mut at = 0;
    loop {
        let field = ends.len() + 1;
        if line.get(at) == Some(&b'"') {
            at += 1;
            loop {
                let Some(quote) = line[at..].iter().position(|&b| b == b'"') else {
                    return Err(format!(
                        "unterminated quoted field (field {field}); quoted fields cannot span lines"
                    ));
                };
                cells.extend_from_slice(&line[at..at + quote]);
                at += quote + 1;
                if line.get(at) == Some(&b'"') {
                    cells.push(b'"');
                    at += 1;
                } else {
                    break;
                }
            }
            ends.push(cells.len());
            match line.get(at) {
                None => return Ok(()),
                Some(b',') => at += 1,
                Some(_) => {
                    return Err(format!(
                        "unexpected text after the closing quote of field {field}"
                    ));
                }
            }
        } else {
            let end = line[at..]
                .iter()
                .position(|&b| b == b',')
                .map_or(line.len(), |comma| at + comma);
            cells.extend_from_slice(&line[at..end]);
            ends.push(cells.len());
            if end == line.len() {
                return Ok(());
            }
            at = end + 1;
        }
    }
}

/// The header's column names, each rendered as `"name":`, or why they cannot be used.
pub(crate) fn header_columns(cells: &[u8], ends: &[usize]) -> Result<Vec<Vec<u8>>, String> {
    let mut names: Vec<&str> = Vec::with_capacity(ends.len());
    let mut start = 0;
    for (index, &end) in ends.iter().enumerate() {
        let name = std::str::from_utf8(&cells[start..end])
            .map_err(|error| format!("column {} is not valid UTF-8: {error}", index + 1))?;
        if name.is_empty() {
            return Err(format!("column {} has an empty name", index + 1));
        }
        if names.contains(&name) {
            return Err(format!("column name \"{name}\" appears twice"));
        }
        names.push(name);
        start = end;
    }
    Ok(names
        .into_iter()
        .map(|name| {
            let mut column = Vec::with_capacity(name.len() + 3);
            write_json_string(&mut column, name);
            column.push(b':');
            column
        })
        .collect())
}

/// Writes one CSV field as a JSON value: `null` when empty, a number when it reads as
/// an `i64` or a finite `f64`, else a string. A field that already is a JSON number is
/// written as it is, so no digits are lost.
pub(crate) fn write_csv_value(out: &mut Vec<u8>, cell: &str) {
    if cell.is_empty() {
        out.extend_from_slice(b"null");
    } else if is_json_number(cell.as_bytes()) && cell.parse::<f64>().is_ok_and(f64::is_finite) {
        out.extend_from_slice(cell.as_bytes());
    } else if let Ok(integer) = cell.parse::<i64>() {
        write_i64(out, integer);
    } else if let Some(float) = cell.parse::<f64>().ok().filter(|float| float.is_finite()) {
        // `Debug` prints the shortest exact form, with an exponent when large or small:
        // always a valid JSON number for a finite value.
        out.extend_from_slice(format!("{float:?}").as_bytes());
    } else {
        write_json_string(out, cell);
    }
}

/// Whether `text` follows the JSON number grammar: `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`.
pub(crate) fn is_json_number(text: &[u8]) -> bool {
    let digits_from = |at: usize| {
        at + text[at.min(text.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut at = usize::from(text.first() == Some(&b'-'));
    match text.get(at) {
        Some(b'0') => at += 1,
        Some(b'1'..=b'9') => at = digits_from(at),
        _ => return false,
    }
    if text.get(at) == Some(&b'.') {
        let end = digits_from(at + 1);
        if end == at + 1 {
            return false;
        }
        at = end;
    }
    if matches!(text.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(text.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let end = digits_from(at);
        if end == at {
            return false;
        }
        at = end;
    }
    at == text.len()
}
