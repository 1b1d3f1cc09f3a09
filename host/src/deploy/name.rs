//! [`PluginName`]: a plugin's name in the registry, checked so that it can only ever
//! name a directory inside the registry.

/// Longest plugin name accepted.
pub const MAX_NAME_LEN: usize = 64;

/// A checked plugin name: 1 to [`MAX_NAME_LEN`] ASCII letters, digits, `-`, `_` or
/// `.`, not starting with `.`. So no `/`, no `..`, no NUL, nothing a path could be
/// tricked with.
///
/// ```
/// use weir_host::deploy::PluginName;
/// assert!(PluginName::parse("version-tag").is_ok());
/// for trick in ["../etc", "a/b", "..", ".hidden", "nul\0", "", "a b"] {
///     assert!(PluginName::parse(trick).is_err(), "{trick:?}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PluginName(String);

impl PluginName {
    /// Checks `name`.
    ///
    /// # Errors
    /// A message saying what is wrong with it.
    pub fn parse(name: &str) -> Result<Self, String> {
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return Err(format!(
                "a plugin name has 1 to {MAX_NAME_LEN} characters, not {}",
                name.len()
            ));
        }
        if name.starts_with('.') {
            return Err(format!("plugin name {name:?} starts with `.`"));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(format!(
                "plugin name {name:?} contains {bad:?}; use letters, digits, `-`, `_` and `.`"
            ));
        }
        Ok(PluginName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PluginName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
