//! The CURVE mechanism (RFC 25 "ZMTP-CURVE", RFC 26 "CurveZMQ") as libzmq
//! 4.3 runs it (`curve_client.cpp`, `curve_client_tools.hpp`,
//! `curve_server.cpp`, `curve_mechanism_base.cpp`), with the `curve`
//! feature.
//!
//! ## Keys
//!
//! Keys are 32-byte Curve25519 keys, raw or in Z85 text (40 characters,
//! [`crate::z85`]). [`public_key`] derives a public key from a secret key
//! (libzmq `zmq_curve_public`) and [`CurveKeypair::generate`] makes a key
//! pair from the caller's random number generator (libzmq
//! `zmq_curve_keypair`). A client needs its own key pair and the server's
//! public key ([`MechanismConfig::curve_client`]); a server needs its
//! secret key ([`MechanismConfig::curve_server`]).
//!
//! ## Randomness
//!
//! The core has no random source of its own. A CURVE connection is made
//! with [`Connection::new_with_rng`](super::Connection::new_with_rng), which
//! draws everything the connection will ever need from the caller's
//! `rand_core::CryptoRngCore` at once, before it returns: the transient
//! secret key (32 bytes), then for a client the vouch nonce (16 bytes; 48
//! in all), for a server the cookie nonce, the cookie key and the WELCOME
//! nonce (16 + 32 + 16 bytes; 96 in all). libzmq draws the same values,
//! some of them later in the handshake. [`Connection::new`](super::Connection::new)
//! refuses a CURVE configuration
//! ([`SendError::NoEntropy`](super::SendError::NoEntropy)), so a connection
//! can never run CURVE without fresh randomness.
//!
//! The generator must be a cryptographically secure one (that is what
//! `CryptoRngCore` promises): every transient secret key and cookie key is
//! only as secret as the generator's output is unpredictable. On a board
//! with a hardware TRNG, pass it (or a CSPRNG such as ChaCha20 seeded from
//! it). A board without a TRNG must still bring real entropy: a seed of at
//! least 32 unpredictable bytes per device (provisioned at manufacture and
//! stored where an attacker cannot read it, or gathered from a physical
//! noise source such as ADC noise and clock jitter, then hashed), expanded
//! by a CSPRNG whose state is persisted and advanced across reboots so that
//! no output ever repeats. A unique device id plus a boot counter is **not**
//! enough: both are guessable, so anyone could recompute the transient
//! secrets and decrypt the traffic. Never reuse one generator state for two
//! connections.
//!
//! ## Wire
//!
//! The commands and their layouts are in [`crate::wire::curve`]. After the
//! handshake every frame, commands included (SUBSCRIBE, CANCEL, PING,
//! PONG), travels in a MESSAGE whose box holds a flags byte (bit 0 MORE,
//! bit 1 COMMAND, as libzmq) and the frame; like libzmq, the MESSAGE goes
//! out in a frame without flags, and any frame that arrives after the
//! handshake is read as a MESSAGE. Short nonces count from 1
//! per direction as libzmq's do (the client's HELLO is 1, its INITIATE 2,
//! its first MESSAGE 3; the server's READY is 1, its first MESSAGE 2), and
//! a received MESSAGE must carry a nonce above the last one seen.
//!
//! ## Memory
//!
//! A CURVE connection keeps its state (keys, nonces, a copy of our metadata
//! for the READY / INITIATE that is built after the peer's first command)
//! in a [`CurveState`] the caller lends it, about 900 bytes; a connection
//! of another mechanism needs none, and the `curve` feature makes every
//! [`Connection`](super::Connection) only a pointer larger. Boxes are opened and sealed in place
//! in the connection's buffers; the largest local buffers of a handshake
//! call are the WELCOME (168 bytes) and our metadata (up to 300 bytes), and
//! the X25519 scalar multiplication of the crypto crates adds its own
//! (a few hundred bytes); a message call needs no buffer of its own. This
//! is an estimate from the code, not a measurement.
//!
//! The receive queue holds a MESSAGE whole before it opens it, so the
//! largest frame a CURVE connection receives is the receive buffer's
//! [`MsgRing::max_body_len`](crate::queue::MsgRing::max_body_len) minus the
//! 33 bytes a MESSAGE adds ([`MESSAGE_OVERHEAD`]); a larger
//! MESSAGE closes the connection with
//! [`DisconnectReason::MessageTooLarge`](super::DisconnectReason::MessageTooLarge).
//! `ZMQ_MAXMSGSIZE` applies to the decrypted frame. Because the MORE flag
//! of a frame is inside its box, a new message is only read in while the
//! receive queue is empty (a CURVE connection queues one received message
//! at a time), which rules out a multi-frame message split around the end
//! of the queue.

use crypto_box::aead::AeadInPlace;
use crypto_box::aead::generic_array::GenericArray;
use crypto_box::{PublicKey, SalsaBox, SecretKey};
use rand_core::CryptoRngCore;
use xsalsa20poly1305::KeyInit;

use super::MechanismConfig;
use crate::error::ProtocolError;
use crate::wire::curve::{
    self as w, COOKIE_LEN, HELLO_LEN, KEY_LEN, MAC_LEN, MESSAGE_OVERHEAD, WELCOME_LEN,
};
use crate::z85::{self, Z85Error};

/// Room kept for our own metadata (Socket-Type, Identity and the user
/// properties), which the INITIATE / READY carry.
pub(super) const METADATA_COPY_CAP: usize = 2 * 16 + 255 + 8 + super::config::METADATA_CAP;

/// A Curve25519 key pair.
#[derive(Clone, PartialEq, Eq)]
pub struct CurveKeypair {
    /// The public key.
    pub public: [u8; KEY_LEN],
    /// The secret key.
    pub secret: [u8; KEY_LEN],
}

impl core::fmt::Debug for CurveKeypair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CurveKeypair")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// Shows the public key only.
#[cfg(feature = "defmt")]
impl defmt::Format for CurveKeypair {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "CurveKeypair {{ public: {=[u8]:02x} }}", self.public[..]);
    }
}

impl CurveKeypair {
    /// A fresh key pair: 32 random bytes from `rng` as the secret key, its
    /// public key derived (libzmq `zmq_curve_keypair`, libsodium
    /// `crypto_box_keypair`).
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut secret = [0u8; KEY_LEN];
        rng.fill_bytes(&mut secret);
        Self::from_secret(secret)
    }

    /// The key pair of a secret key.
    #[must_use]
    pub fn from_secret(secret: [u8; KEY_LEN]) -> Self {
        Self {
            public: public_key(&secret),
            secret,
        }
    }

    /// The key pair of a Z85 secret key (40 characters).
    ///
    /// # Errors
    ///
    /// As [`z85::decode_key`].
    pub fn from_secret_z85(text: &[u8]) -> Result<Self, Z85Error> {
        Ok(Self::from_secret(z85::decode_key(text)?))
    }

    /// The public key in Z85.
    #[must_use]
    pub fn public_z85(&self) -> [u8; z85::KEY_TEXT_LEN] {
        z85::encode_key(&self.public)
    }

    /// The secret key in Z85.
    #[must_use]
    pub fn secret_z85(&self) -> [u8; z85::KEY_TEXT_LEN] {
        z85::encode_key(&self.secret)
    }
}

/// The public key of a secret key (libzmq `zmq_curve_public`: X25519 of
/// the base point).
#[must_use]
pub fn public_key(secret: &[u8; KEY_LEN]) -> [u8; KEY_LEN] {
    SecretKey::from(*secret).public_key().to_bytes()
}

/// libsodium refuses a peer key of small order (its X25519 returns an
/// error, so `crypto_box` fails); these are the encodings it checks
/// (`crypto_scalarmult/curve25519/ref10`, `has_small_order`), compared
/// without the top bit.
const SMALL_ORDER: [[u8; 32]; 7] = [
    [0; 32],
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x00,
    ],
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
        0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
        0x11, 0x57,
    ],
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    [
        0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    [
        0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
];

/// Whether `key` is one of the small-order encodings libsodium refuses.
pub(super) fn has_small_order(key: &[u8; KEY_LEN]) -> bool {
    SMALL_ORDER.iter().any(|bad| {
        key.iter()
            .zip(bad.iter())
            .enumerate()
            .all(|(i, (&k, &b))| if i == 31 { k & 0x7f == b } else { k == b })
    })
}

/// `crypto_box_beforenm`: the shared key of `public` and `secret`, `None`
/// for a small-order `public` (libsodium fails there).
fn precompute(public: &[u8; KEY_LEN], secret: &[u8; KEY_LEN]) -> Option<SalsaBox> {
    if has_small_order(public) {
        return None;
    }
    Some(SalsaBox::new(
        &PublicKey::from(*public),
        &SecretKey::from(*secret),
    ))
}

/// Encrypts `buf` in place and returns the MAC.
fn seal(b: &SalsaBox, nonce: [u8; 24], buf: &mut [u8]) -> Option<[u8; MAC_LEN]> {
    b.encrypt_in_place_detached(&GenericArray::from(nonce), b"", buf)
        .ok()
        .map(Into::into)
}

/// Decrypts `buf` in place after checking `mac`.
fn open(b: &SalsaBox, nonce: [u8; 24], mac: [u8; MAC_LEN], buf: &mut [u8]) -> bool {
    b.decrypt_in_place_detached(
        &GenericArray::from(nonce),
        b"",
        buf,
        &GenericArray::from(mac),
    )
    .is_ok()
}

/// Splits a box (MAC then ciphertext) into the MAC and the ciphertext.
fn split_box(boxed: &mut [u8]) -> Option<([u8; MAC_LEN], &mut [u8])> {
    let (mac, ct) = boxed.split_at_mut_checked(MAC_LEN)?;
    let mac: [u8; MAC_LEN] = (&*mac).try_into().ok()?;
    Some((mac, ct))
}

/// Which side of CURVE this connection plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Not seeded for a connection yet.
    None,
    Client,
    Server,
}

/// Storage for the CURVE state of one connection: its keys, nonces,
/// counters and a copy of our metadata (about 900 bytes on a 64-bit host).
/// The caller lends one to
/// [`Connection::new_with_rng`](super::Connection::new_with_rng) for each
/// CURVE connection, like the connection's buffers, so that connections of
/// other mechanisms carry nothing of it; it can be reused once the
/// connection is gone ([`Connection::into_parts`](super::Connection::into_parts)).
/// Its contents are secret: the connection wipes them when it closes (and
/// [`CurveState::wipe`] does at any time).
pub struct CurveState {
    role: Role,
    /// Our long-term secret key (c or s).
    secret: [u8; KEY_LEN],
    /// Client: our long-term public key C.
    public: [u8; KEY_LEN],
    /// Client: the server's long-term public key S.
    server_key: [u8; KEY_LEN],
    /// Our transient key pair (c' / s').
    cn_secret: [u8; KEY_LEN],
    cn_public: [u8; KEY_LEN],
    /// Server: the client's transient key C'.
    peer_cn: [u8; KEY_LEN],
    /// Server: the cookie key.
    cookie_key: [u8; KEY_LEN],
    /// Server: the cookie nonce; client: the vouch nonce.
    nonce_a: [u8; 16],
    /// Server: the WELCOME nonce.
    nonce_b: [u8; 16],
    /// Server: the client's long-term key C (the ZAP credential).
    client_key: [u8; KEY_LEN],
    /// The message key (C' and S'), once both transient keys are known.
    precom: Option<SalsaBox>,
    /// Our next short nonce.
    tx_nonce: u64,
    /// The peer's last short nonce.
    rx_nonce: u64,
    /// Our metadata, for the INITIATE / READY.
    pub(super) metadata: heapless::Vec<u8, METADATA_COPY_CAP>,
}

impl core::fmt::Debug for CurveState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CurveState")
            .field("role", &self.role)
            .field("tx_nonce", &self.tx_nonce)
            .field("rx_nonce", &self.rx_nonce)
            .finish_non_exhaustive()
    }
}

/// Shows the counters only.
#[cfg(feature = "defmt")]
impl defmt::Format for CurveState {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "CurveState {{ tx_nonce: {=u64}, rx_nonce: {=u64} }}",
            self.tx_nonce,
            self.rx_nonce
        );
    }
}

impl Default for CurveState {
    fn default() -> Self {
        Self::new()
    }
}

impl CurveState {
    /// Empty storage, ready to be lent to a connection.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            role: Role::None,
            secret: [0; KEY_LEN],
            public: [0; KEY_LEN],
            server_key: [0; KEY_LEN],
            cn_secret: [0; KEY_LEN],
            cn_public: [0; KEY_LEN],
            peer_cn: [0; KEY_LEN],
            cookie_key: [0; KEY_LEN],
            nonce_a: [0; 16],
            nonce_b: [0; 16],
            client_key: [0; KEY_LEN],
            precom: None,
            tx_nonce: 1,
            rx_nonce: 1,
            metadata: heapless::Vec::new(),
        }
    }

    /// Overwrites every key, nonce and the metadata copy with zeros (with
    /// writes the compiler may not elide, `zeroize`), leaving empty storage.
    pub fn wipe(&mut self) {
        use zeroize::Zeroize;
        self.secret.zeroize();
        self.public.zeroize();
        self.server_key.zeroize();
        self.cn_secret.zeroize();
        self.cn_public.zeroize();
        self.peer_cn.zeroize();
        self.cookie_key.zeroize();
        self.nonce_a.zeroize();
        self.nonce_b.zeroize();
        self.client_key.zeroize();
        self.metadata.as_mut_slice().zeroize();
        self.metadata.clear();
        self.precom = None;
        self.role = Role::None;
        self.tx_nonce = 1;
        self.rx_nonce = 1;
    }

    /// Resets the storage for `config`, drawing all its randomness from
    /// `rng`.
    pub(super) fn seed(&mut self, config: &MechanismConfig, rng: &mut dyn CryptoRngCore) {
        self.wipe();
        let s = self;
        match config {
            MechanismConfig::CurveClient {
                public_key,
                secret_key,
                server_key,
            } => {
                s.role = Role::Client;
                s.public = *public_key;
                s.secret = *secret_key;
                s.server_key = *server_key;
            }
            MechanismConfig::CurveServer { secret_key } => {
                s.role = Role::Server;
                s.secret = *secret_key;
            }
            _ => return,
        }
        rng.fill_bytes(&mut s.cn_secret);
        s.cn_public = public_key(&s.cn_secret);
        rng.fill_bytes(&mut s.nonce_a);
        if s.role == Role::Server {
            rng.fill_bytes(&mut s.cookie_key);
            rng.fill_bytes(&mut s.nonce_b);
        }
    }

    /// Whether this is the server side.
    pub(super) fn is_server(&self) -> bool {
        self.role == Role::Server
    }

    /// Server: the client's long-term public key, once INITIATE was opened.
    pub(super) fn client_key(&self) -> &[u8; KEY_LEN] {
        &self.client_key
    }

    fn next_nonce(&mut self) -> u64 {
        let n = self.tx_nonce;
        self.tx_nonce = n.saturating_add(1);
        n
    }

    // ---------------------------------------------------------------
    // Client
    // ---------------------------------------------------------------

    /// Client: our HELLO (`curve_client_tools_t::produce_hello`).
    pub(super) fn hello(&mut self) -> Option<[u8; HELLO_LEN]> {
        let b = precompute(&self.server_key, &self.cn_secret)?;
        let nonce = self.next_nonce();
        let mut zeros = [0u8; 64];
        let mac = seal(&b, w::short_nonce(w::HELLO_NONCE_PREFIX, nonce), &mut zeros)?;
        let mut out = [0u8; HELLO_LEN];
        let (head, rest) = out.split_at_mut(8);
        head.copy_from_slice(b"\x05HELLO\x01\x00");
        let (_padding, rest) = rest.split_at_mut(72);
        let (cn, rest) = rest.split_at_mut(KEY_LEN);
        cn.copy_from_slice(&self.cn_public);
        let (n, rest) = rest.split_at_mut(8);
        n.copy_from_slice(&nonce.to_be_bytes());
        let (m, rest) = rest.split_at_mut(MAC_LEN);
        m.copy_from_slice(&mac);
        rest.copy_from_slice(&zeros);
        Some(out)
    }

    /// Client: opens a WELCOME (`process_welcome`) and returns S' and the
    /// cookie; the message key is ready afterwards.
    pub(super) fn open_welcome(
        &mut self,
        body: &[u8],
    ) -> Result<([u8; KEY_LEN], [u8; COOKIE_LEN]), ProtocolError> {
        let bad = ProtocolError::ZmtpCryptographic;
        let welcome = w::WelcomeRepr::parse(body).map_err(|_| bad)?;
        let b = precompute(&self.server_key, &self.cn_secret).ok_or(bad)?;
        let mut plain = [0u8; 128];
        let (mac, ct) = welcome.sealed.split_at_checked(MAC_LEN).ok_or(bad)?;
        plain.copy_from_slice(ct);
        let mac: [u8; MAC_LEN] = mac.try_into().map_err(|_| bad)?;
        let nonce = w::long_nonce(w::WELCOME_NONCE_PREFIX, &welcome.nonce);
        if !open(&b, nonce, mac, &mut plain) {
            return Err(bad);
        }
        let (s_prime, cookie) = plain.split_at(KEY_LEN);
        let s_prime: [u8; KEY_LEN] = s_prime.try_into().map_err(|_| bad)?;
        let cookie: [u8; COOKIE_LEN] = cookie.try_into().map_err(|_| bad)?;
        self.precom = Some(precompute(&s_prime, &self.cn_secret).ok_or(bad)?);
        Ok((s_prime, cookie))
    }

    /// Client: the INITIATE body length for our metadata.
    pub(super) fn initiate_len(&self) -> usize {
        w::INITIATE_MIN_LEN.saturating_add(self.metadata.len())
    }

    /// Client: fills `body` ([`CurveState::initiate_len`] bytes) with our
    /// INITIATE (`produce_initiate`).
    pub(super) fn write_initiate(
        &mut self,
        body: &mut [u8],
        s_prime: &[u8; KEY_LEN],
        cookie: &[u8; COOKIE_LEN],
    ) -> Option<()> {
        // Vouch = Box[C' + S](C -> S').
        let vouch_box = precompute(s_prime, &self.secret)?;
        let mut vouch = [0u8; 2 * KEY_LEN];
        let (a, b) = vouch.split_at_mut(KEY_LEN);
        a.copy_from_slice(&self.cn_public);
        b.copy_from_slice(&self.server_key);
        let vouch_mac = seal(
            &vouch_box,
            w::long_nonce(w::VOUCH_NONCE_PREFIX, &self.nonce_a),
            &mut vouch,
        )?;
        let nonce = self.next_nonce();
        let (head, rest) = body.split_at_mut_checked(9)?;
        head.copy_from_slice(w::INITIATE_PREFIX);
        let (c, rest) = rest.split_at_mut_checked(COOKIE_LEN)?;
        c.copy_from_slice(cookie);
        let (n, boxed) = rest.split_at_mut_checked(8)?;
        n.copy_from_slice(&nonce.to_be_bytes());
        let (mac_slot, plain) = boxed.split_at_mut_checked(MAC_LEN)?;
        let (key, rest) = plain.split_at_mut_checked(KEY_LEN)?;
        key.copy_from_slice(&self.public);
        let (vn, rest) = rest.split_at_mut_checked(16)?;
        vn.copy_from_slice(&self.nonce_a);
        let (vm, rest) = rest.split_at_mut_checked(MAC_LEN)?;
        vm.copy_from_slice(&vouch_mac);
        let (vb, meta) = rest.split_at_mut_checked(2 * KEY_LEN)?;
        vb.copy_from_slice(&vouch);
        meta.copy_from_slice(&self.metadata);
        let precom = self.precom.as_ref()?;
        let mac = seal(
            precom,
            w::short_nonce(w::INITIATE_NONCE_PREFIX, nonce),
            plain,
        )?;
        mac_slot.copy_from_slice(&mac);
        Some(())
    }

    /// Client: opens a READY in place (`process_ready`) and moves its
    /// metadata to `body[6..]` (after the `\x05READY` name); returns the
    /// metadata length.
    pub(super) fn open_ready(&mut self, body: &mut [u8]) -> Result<usize, ProtocolError> {
        let len = body.len();
        if len < w::READY_MIN_LEN {
            return Err(ProtocolError::ZmtpMalformedCommandReady);
        }
        let bad = ProtocolError::ZmtpCryptographic;
        let nonce = w::SealedRepr::parse_ready(body).map_err(|_| bad)?.nonce;
        self.rx_nonce = nonce;
        let precom = self.precom.as_ref().ok_or(bad)?;
        let boxed = body.get_mut(14..).ok_or(bad)?;
        let (mac, ct) = split_box(boxed).ok_or(bad)?;
        if !open(
            precom,
            w::short_nonce(w::READY_NONCE_PREFIX, nonce),
            mac,
            ct,
        ) {
            return Err(bad);
        }
        let meta_len = len.saturating_sub(30);
        body.copy_within(30.., 6);
        Ok(meta_len)
    }

    // ---------------------------------------------------------------
    // Server
    // ---------------------------------------------------------------

    /// Server: opens a HELLO (`process_hello`) whose name and size were
    /// checked.
    pub(super) fn open_hello(&mut self, body: &[u8]) -> Result<(), ProtocolError> {
        let hello =
            w::HelloRepr::parse(body).map_err(|_| ProtocolError::ZmtpMalformedCommandHello)?;
        if hello.major != 1 || hello.minor != 0 {
            return Err(ProtocolError::ZmtpMalformedCommandHello);
        }
        let bad = ProtocolError::ZmtpCryptographic;
        self.peer_cn = hello.client_transient;
        self.rx_nonce = hello.nonce;
        let b = precompute(&self.peer_cn, &self.secret).ok_or(bad)?;
        let (mac, ct) = hello.signature.split_at_checked(MAC_LEN).ok_or(bad)?;
        let mut plain = [0u8; 64];
        plain.copy_from_slice(ct);
        let mac: [u8; MAC_LEN] = mac.try_into().map_err(|_| bad)?;
        if open(
            &b,
            w::short_nonce(w::HELLO_NONCE_PREFIX, hello.nonce),
            mac,
            &mut plain,
        ) {
            Ok(())
        } else {
            Err(bad)
        }
    }

    /// Server: our WELCOME (`produce_welcome`).
    pub(super) fn welcome(&mut self) -> Option<[u8; WELCOME_LEN]> {
        // Cookie = nonce + SecretBox[C' + s'](K).
        let mut cookie_plain = [0u8; 2 * KEY_LEN];
        let (a, b) = cookie_plain.split_at_mut(KEY_LEN);
        a.copy_from_slice(&self.peer_cn);
        b.copy_from_slice(&self.cn_secret);
        let cookie_box = xsalsa20poly1305::XSalsa20Poly1305::new(&self.cookie_key.into());
        let cookie_mac = cookie_box
            .encrypt_in_place_detached(
                &GenericArray::from(w::long_nonce(w::COOKIE_NONCE_PREFIX, &self.nonce_a)),
                b"",
                &mut cookie_plain,
            )
            .ok()?;
        let mut out = [0u8; WELCOME_LEN];
        let (head, rest) = out.split_at_mut(8);
        head.copy_from_slice(w::WELCOME_PREFIX);
        let (n, rest) = rest.split_at_mut(16);
        n.copy_from_slice(&self.nonce_b);
        let (mac_slot, plain) = rest.split_at_mut(MAC_LEN);
        let (sp, rest) = plain.split_at_mut(KEY_LEN);
        sp.copy_from_slice(&self.cn_public);
        let (cn, rest) = rest.split_at_mut(16);
        cn.copy_from_slice(&self.nonce_a);
        let (cm, rest) = rest.split_at_mut(MAC_LEN);
        cm.copy_from_slice(&cookie_mac);
        rest.copy_from_slice(&cookie_plain);
        let b = precompute(&self.peer_cn, &self.secret)?;
        let mac = seal(
            &b,
            w::long_nonce(w::WELCOME_NONCE_PREFIX, &self.nonce_b),
            plain,
        )?;
        mac_slot.copy_from_slice(&mac);
        Some(out)
    }

    /// Server: opens an INITIATE in place (`process_initiate`) whose name
    /// and size were checked, and moves its metadata to `body[9..]` (after
    /// the `\x08INITIATE` name); returns the metadata length. The client's
    /// long-term key is kept for the ZAP request.
    pub(super) fn open_initiate(&mut self, body: &mut [u8]) -> Result<usize, ProtocolError> {
        let bad = ProtocolError::ZmtpCryptographic;
        let len = body.len();
        // The cookie: SecretBox[C' + s'](K) must hold our C' and s'.
        let cookie = body.get(9..9 + COOKIE_LEN).ok_or(bad)?;
        let (cookie_nonce, cookie_box) = cookie.split_at_checked(16).ok_or(bad)?;
        let cookie_nonce: [u8; 16] = cookie_nonce.try_into().map_err(|_| bad)?;
        let (cookie_mac, cookie_ct) = cookie_box.split_at_checked(MAC_LEN).ok_or(bad)?;
        let mut cookie_plain = [0u8; 2 * KEY_LEN];
        cookie_plain.copy_from_slice(cookie_ct);
        let key = xsalsa20poly1305::XSalsa20Poly1305::new(&self.cookie_key.into());
        let cookie_mac: [u8; MAC_LEN] = cookie_mac.try_into().map_err(|_| bad)?;
        key.decrypt_in_place_detached(
            &GenericArray::from(w::long_nonce(w::COOKIE_NONCE_PREFIX, &cookie_nonce)),
            b"",
            &mut cookie_plain,
            &GenericArray::from(cookie_mac),
        )
        .map_err(|_| bad)?;
        let (c_prime, s_prime) = cookie_plain.split_at(KEY_LEN);
        if c_prime != self.peer_cn || s_prime != self.cn_secret {
            return Err(bad);
        }
        // Box[C + vouch + metadata](C' -> S').
        let nonce_bytes: [u8; 8] = body
            .get(105..113)
            .and_then(|n| n.try_into().ok())
            .ok_or(bad)?;
        let nonce = u64::from_be_bytes(nonce_bytes);
        self.rx_nonce = nonce;
        let precom = precompute(&self.peer_cn, &self.cn_secret).ok_or(bad)?;
        let boxed = body.get_mut(113..).ok_or(bad)?;
        let (mac, plain) = split_box(boxed).ok_or(bad)?;
        if !open(
            &precom,
            w::short_nonce(w::INITIATE_NONCE_PREFIX, nonce),
            mac,
            plain,
        ) {
            return Err(bad);
        }
        // Plaintext: C (32), vouch nonce (16), vouch (80), metadata.
        let client_key: [u8; KEY_LEN] = plain
            .get(..KEY_LEN)
            .and_then(|k| k.try_into().ok())
            .ok_or(bad)?;
        let vouch_nonce: [u8; 16] = plain
            .get(32..48)
            .and_then(|k| k.try_into().ok())
            .ok_or(bad)?;
        let mut vouch = [0u8; 2 * KEY_LEN];
        vouch.copy_from_slice(plain.get(64..128).ok_or(bad)?);
        let vouch_mac: [u8; MAC_LEN] = plain
            .get(48..64)
            .and_then(|k| k.try_into().ok())
            .ok_or(bad)?;
        let vouch_box = precompute(&client_key, &self.cn_secret).ok_or(bad)?;
        if !open(
            &vouch_box,
            w::long_nonce(w::VOUCH_NONCE_PREFIX, &vouch_nonce),
            vouch_mac,
            &mut vouch,
        ) {
            return Err(bad);
        }
        if vouch.get(..KEY_LEN) != Some(&self.peer_cn[..]) {
            return Err(ProtocolError::ZmtpKeyExchange);
        }
        self.client_key = client_key;
        self.precom = Some(precom);
        let meta_len = len.saturating_sub(w::INITIATE_MIN_LEN);
        body.copy_within(w::INITIATE_MIN_LEN.., 9);
        Ok(meta_len)
    }

    /// Server: the READY body length for our metadata.
    pub(super) fn ready_len(&self) -> usize {
        w::READY_MIN_LEN.saturating_add(self.metadata.len())
    }

    /// Server: fills `body` ([`CurveState::ready_len`] bytes) with our
    /// READY (`produce_ready`).
    pub(super) fn write_ready(&mut self, body: &mut [u8]) -> Option<()> {
        let nonce = self.next_nonce();
        let (head, rest) = body.split_at_mut_checked(6)?;
        head.copy_from_slice(w::READY_PREFIX);
        let (n, boxed) = rest.split_at_mut_checked(8)?;
        n.copy_from_slice(&nonce.to_be_bytes());
        let (mac_slot, plain) = boxed.split_at_mut_checked(MAC_LEN)?;
        plain.copy_from_slice(&self.metadata);
        let mac = seal(
            self.precom.as_ref()?,
            w::short_nonce(w::READY_NONCE_PREFIX, nonce),
            plain,
        )?;
        mac_slot.copy_from_slice(&mac);
        Some(())
    }

    // ---------------------------------------------------------------
    // Messages
    // ---------------------------------------------------------------

    fn message_prefixes(&self) -> (&'static [u8; 16], &'static [u8; 16]) {
        if self.role == Role::Server {
            (
                w::MESSAGE_SERVER_NONCE_PREFIX,
                w::MESSAGE_CLIENT_NONCE_PREFIX,
            )
        } else {
            (
                w::MESSAGE_CLIENT_NONCE_PREFIX,
                w::MESSAGE_SERVER_NONCE_PREFIX,
            )
        }
    }

    /// Seals a MESSAGE in place: `body` is the `\x07MESSAGE` name, 24 bytes
    /// of room for the nonce and MAC, the flags byte and the frame.
    pub(super) fn seal_message(&mut self, body: &mut [u8]) -> Option<()> {
        let (ours, _) = self.message_prefixes();
        let nonce = self.next_nonce();
        let (head, rest) = body.split_at_mut_checked(8)?;
        head.copy_from_slice(w::MESSAGE_PREFIX);
        let (n, boxed) = rest.split_at_mut_checked(8)?;
        n.copy_from_slice(&nonce.to_be_bytes());
        let (mac_slot, plain) = boxed.split_at_mut_checked(MAC_LEN)?;
        let mac = seal(self.precom.as_ref()?, w::short_nonce(ours, nonce), plain)?;
        mac_slot.copy_from_slice(&mac);
        Some(())
    }

    /// Opens a received frame as a MESSAGE in place
    /// (`curve_mechanism_base_t::decode`): moves the frame to the start of
    /// `body` and returns the flags byte and the frame's length.
    ///
    /// # Errors
    ///
    /// libzmq's codes: `ZMTP_MALFORMED_COMMAND_UNSPECIFIED` for a body of
    /// at most 1 byte or not longer than its first byte,
    /// `ZMTP_UNEXPECTED_COMMAND` if it is not a MESSAGE,
    /// `ZMTP_MALFORMED_COMMAND_MESSAGE` below 33 bytes,
    /// `ZMTP_INVALID_SEQUENCE` for a nonce not above the last one,
    /// `ZMTP_CRYPTOGRAPHIC` if the box does not open.
    pub(super) fn open_message(&mut self, body: &mut [u8]) -> Result<(u8, usize), ProtocolError> {
        let len = body.len();
        let name_len = body.first().map_or(0, |&b| usize::from(b));
        if len <= 1 || len <= name_len {
            return Err(ProtocolError::ZmtpMalformedCommandUnspecified);
        }
        if !body.starts_with(w::MESSAGE_PREFIX) {
            return Err(ProtocolError::ZmtpUnexpectedCommand);
        }
        let nonce = w::SealedRepr::parse_message(body)
            .map_err(|_| ProtocolError::ZmtpMalformedCommandMessage)?
            .nonce;
        if nonce <= self.rx_nonce {
            return Err(ProtocolError::ZmtpInvalidSequence);
        }
        self.rx_nonce = nonce;
        let (_, theirs) = self.message_prefixes();
        let bad = ProtocolError::ZmtpCryptographic;
        let precom = self.precom.as_ref().ok_or(bad)?;
        let boxed = body.get_mut(16..).ok_or(bad)?;
        let (mac, plain) = split_box(boxed).ok_or(bad)?;
        if !open(precom, w::short_nonce(theirs, nonce), mac, plain) {
            return Err(bad);
        }
        let flags = body.get(32).copied().ok_or(bad)?;
        let frame_len = len.saturating_sub(MESSAGE_OVERHEAD);
        body.copy_within(MESSAGE_OVERHEAD.., 0);
        Ok((flags, frame_len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_order_keys_are_refused() {
        for bad in &SMALL_ORDER {
            assert!(has_small_order(bad));
            assert!(precompute(bad, &[7; 32]).is_none());
            // Each is really of small order: X25519 with any secret (whose
            // clamping clears the cofactor) gives the all-zero point.
            let shared = curve25519_dalek::MontgomeryPoint(*bad).mul_clamped([0x5a; 32]);
            assert_eq!(shared.to_bytes(), [0; 32], "{bad:02x?}");
        }
        let mut high = SMALL_ORDER[1];
        high[31] |= 0x80;
        assert!(has_small_order(&high));
        assert!(!has_small_order(&public_key(&[7; 32])));
    }
}
