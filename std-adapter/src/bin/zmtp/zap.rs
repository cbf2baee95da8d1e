//! `--zap-allow`: a ZAP handler (RFC 27) inside the tool, on the context's
//! `inproc://zeromq.zap.01`, accepting the listed PLAIN credentials and
//! CURVE public keys (`--zap-allow-key`) only.

use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::sync::Arc;
use std::thread::JoinHandle;

use zmtp_std::{Context, Error, Socket, SocketType};

/// The ZAP endpoint.
const ENDPOINT: &str = "inproc://zeromq.zap.01";
/// How often the handler looks at its stop flag.
const TICK: Duration = Duration::from_millis(50);

/// The running handler; [`Handler::stop`] ends it.
pub(crate) struct Handler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// The reply body (after REP's envelope) to one request body.
fn answer(request: &[Vec<u8>], allowed: &[(String, String)], keys: &[[u8; 32]]) -> Vec<Vec<u8>> {
    // "1.0", request id, domain, address, identity, mechanism, credentials.
    let request_id = request.get(1).cloned().unwrap_or_default();
    let accepted = match request {
        [_, _, _, _, _, mechanism, user, pass] if mechanism.as_slice() == b"PLAIN" => allowed
            .iter()
            .find(|(u, p)| u.as_bytes() == user.as_slice() && p.as_bytes() == pass.as_slice())
            .map(|(u, _)| u.as_bytes().to_vec()),
        [_, _, _, _, _, mechanism, key] if mechanism.as_slice() == b"CURVE" => keys
            .iter()
            .find(|k| k.as_slice() == key.as_slice())
            .map(key_text),
        _ => None,
    };
    let (code, text, user_id): (&[u8], &[u8], Vec<u8>) = match accepted {
        Some(user) => (b"200", b"OK", user),
        None => (b"400", b"not allowed", Vec::new()),
    };
    vec![
        b"1.0".to_vec(),
        request_id,
        code.to_vec(),
        text.to_vec(),
        user_id,
        Vec::new(),
    ]
}

/// A CURVE key's User-Id: its Z85 text.
#[cfg(feature = "curve")]
fn key_text(key: &[u8; 32]) -> Vec<u8> {
    zmtp_core::z85::encode_key(key).to_vec()
}

/// Without CURVE no key is ever listed.
#[cfg(not(feature = "curve"))]
fn key_text(key: &[u8; 32]) -> Vec<u8> {
    key.to_vec()
}

impl Handler {
    /// Binds a REP socket to the ZAP endpoint of `ctx` and answers its
    /// requests on a thread.
    ///
    /// # Errors
    ///
    /// Whatever creating or binding the socket, or spawning the thread,
    /// returns.
    pub(crate) fn start(
        ctx: &Context,
        allowed: Vec<(String, String)>,
        keys: Vec<[u8; 32]>,
    ) -> Result<Self, String> {
        let sock: Socket = ctx
            .socket(SocketType::Rep)
            .map_err(|e| format!("ZAP handler: {e}"))?;
        sock.set_linger(0)
            .map_err(|e| format!("ZAP handler: {e}"))?;
        sock.bind(ENDPOINT)
            .map_err(|e| format!("ZAP handler: bind {ENDPOINT}: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("zmtp-zap".to_owned())
            .spawn(move || {
                while !done.load(Ordering::SeqCst) {
                    let request = match sock.recv_timeout(TICK) {
                        Ok(r) => r,
                        Err(Error::WouldBlock) => continue,
                        Err(e) => {
                            eprintln!("zmtp: warning: ZAP handler: receive: {e}");
                            break;
                        }
                    };
                    let reply = answer(&request, &allowed, &keys);
                    let refs: Vec<&[u8]> = reply.iter().map(Vec::as_slice).collect();
                    if let Err(e) = sock.send(&refs) {
                        eprintln!("zmtp: warning: ZAP handler: send: {e}");
                        break;
                    }
                }
                let _ = sock.close();
            })
            .map_err(|e| format!("ZAP handler thread: {e}"))?;
        Ok(Self { stop, thread })
    }

    /// Stops the handler and waits for its thread.
    pub(crate) fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        if self.thread.join().is_err() {
            eprintln!("zmtp: warning: the ZAP handler thread failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(parts: &[&str]) -> Vec<Vec<u8>> {
        parts.iter().map(|p| p.as_bytes().to_vec()).collect()
    }

    #[test]
    fn answers() {
        let allowed = vec![("admin".to_owned(), "secret".to_owned())];
        let plain = |u: &str, p: &str| req(&["1.0", "1", "", "127.0.0.1", "", "PLAIN", u, p]);
        assert_eq!(
            answer(&plain("admin", "secret"), &allowed, &[]),
            req(&["1.0", "1", "200", "OK", "admin", ""])
        );
        for bad in [
            plain("admin", "wrong"),
            plain("root", "secret"),
            req(&["1.0", "1", "d", "127.0.0.1", "", "NULL"]),
            req(&["1.0", "1"]),
        ] {
            assert_eq!(answer(&bad, &allowed, &[[7; 32]])[2], b"400", "{bad:?}");
        }
    }

    #[cfg(feature = "curve")]
    #[test]
    fn answers_curve() {
        let key = [7u8; 32];
        let curve = |k: &[u8]| {
            let mut r = req(&["1.0", "2", "", "127.0.0.1", "", "CURVE"]);
            r.push(k.to_vec());
            r
        };
        let ok = answer(&curve(&key), &[], &[[1; 32], key]);
        assert_eq!(ok[2], b"200");
        assert_eq!(ok[1], b"2");
        assert_eq!(ok[4], zmtp_core::z85::encode_key(&key).to_vec());
        assert_eq!(answer(&curve(&[8; 32]), &[], &[key])[2], b"400");
        assert_eq!(answer(&curve(&key), &[], &[])[2], b"400");
        let allowed = vec![("admin".to_owned(), "secret".to_owned())];
        let plain = req(&["1.0", "3", "", "127.0.0.1", "", "PLAIN", "admin", "secret"]);
        assert_eq!(answer(&plain, &allowed, &[key])[2], b"200");
    }
}
