//! [`ConfigError`]: a problem in a pipeline file, with its place.

use std::path::PathBuf;

/// A pipeline file that cannot be used, with the file, the line and column (when the
/// problem has a place), the message, and the offending line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based line and column.
    pub position: Option<(usize, usize)>,
    pub message: String,
    /// The text of the line at `position`.
    pub excerpt: Option<String>,
}

impl ConfigError {
    /// An error at byte `offset` of `text` (or without a place).
    pub fn at(
        file: &std::path::Path,
        text: &str,
        offset: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        let position = offset.map(|offset| line_and_column(text, offset));
        let excerpt = position.and_then(|(line, _)| text.lines().nth(line - 1).map(str::to_owned));
        ConfigError {
            file: file.to_path_buf(),
            position,
            message: message.into(),
            excerpt,
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.position {
            Some((line, column)) => write!(
                f,
                "{}:{line}:{column}: {}",
                self.file.display(),
                self.message
            )?,
            None => write!(f, "{}: {}", self.file.display(), self.message)?,
        }
        if let (Some(excerpt), Some((line, _))) = (&self.excerpt, self.position) {
            write!(f, "\n  {line} | {excerpt}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.chars().count())
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        assert_eq!(line_and_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_and_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_and_column("ab\ncd", 99), (2, 3));
    }
}
