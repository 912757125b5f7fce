//! rustls needs one process-wide crypto provider; with several of its backends compiled in (as in
//! a workspace build: the AWS SDK brings aws-lc-rs, other crates ring) it will not choose, and the
//! first TLS configuration panics. Our binaries install aws-lc-rs (the AWS SDK's) before any TLS.

/// Installs aws-lc-rs as the process's rustls crypto provider unless one is installed already.
/// Cheap and idempotent: call it before building any TLS client.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err only if another thread installed one first: either way one is installed.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_provider_is_installed_and_a_second_call_is_harmless() {
        super::install_crypto_provider();
        super::install_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
