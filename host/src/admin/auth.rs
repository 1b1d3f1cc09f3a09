//! The admin API's bearer token: created at the host's first start, stored with
//! owner-only permissions (`0600`), compared in constant time.

use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The token file's name in the data directory.
pub const TOKEN_FILE: &str = "admin-token";

/// Reads the token in `path`, or creates one (32 random bytes, hex) there. A file
/// that others may read is made owner-only again, with a warning.
///
/// # Errors
/// When the file cannot be read or created, or randomness is unavailable.
pub fn load_or_create(path: &Path) -> std::io::Result<String> {
    if path.exists() {
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(file = %path.display(), "the admin token was readable by others; made owner-only");
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        return Ok(std::fs::read_to_string(path)?.trim().to_owned());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut random = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut random)?;
    let token: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(token.as_bytes())?;
    file.sync_all()?;
    Ok(token)
}

/// Whether the `Authorization` header value `header` carries `token`.
///
/// ```
/// use weir_host::admin::auth::authorized;
/// assert!(authorized(Some("Bearer abc"), "abc"));
/// assert!(!authorized(Some("Bearer abd"), "abc"));
/// assert!(!authorized(None, "abc"));
/// ```
pub fn authorized(header: Option<&str>, token: &str) -> bool {
    let Some(given) = header.and_then(|value| value.strip_prefix("Bearer ")) else {
        return false;
    };
    // Constant time over the token's length: no early exit on the first difference.
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}
