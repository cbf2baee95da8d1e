//! The malformed ZAP replies every mechanism's parity tests send (the
//! request id of libzmq's and our first request is "1"), each with the
//! ZMQ_PROTOCOL_ERROR_ZAP_* code libzmq reports for it in
//! HANDSHAKE_FAILED_PROTOCOL.
#![allow(dead_code, unreachable_pub)]

/// ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY.
pub const ZAP_MALFORMED_REPLY: u32 = 0x2000_0001;
/// ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID.
pub const ZAP_BAD_REQUEST_ID: u32 = 0x2000_0002;
/// ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION.
pub const ZAP_BAD_VERSION: u32 = 0x2000_0003;
/// ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE.
pub const ZAP_INVALID_STATUS_CODE: u32 = 0x2000_0004;
/// ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA.
pub const ZAP_INVALID_METADATA: u32 = 0x2000_0005;

/// One malformed reply (the frames after REP's envelope).
pub struct Malformed {
    pub what: &'static str,
    pub frames: &'static [&'static [u8]],
    pub code: u32,
}

/// Every malformed-reply variant.
pub const MALFORMED: [Malformed; 7] = [
    Malformed {
        what: "1 frame",
        frames: &[b"1.0"],
        code: ZAP_MALFORMED_REPLY,
    },
    Malformed {
        what: "5 frames",
        frames: &[b"1.0", b"1", b"200", b"OK", b"user"],
        code: ZAP_MALFORMED_REPLY,
    },
    Malformed {
        what: "7 frames",
        frames: &[b"1.0", b"1", b"200", b"OK", b"user", b"", b""],
        code: ZAP_MALFORMED_REPLY,
    },
    Malformed {
        what: "bad version",
        frames: &[b"2.0", b"1", b"200", b"OK", b"user", b""],
        code: ZAP_BAD_VERSION,
    },
    Malformed {
        what: "bad request id",
        frames: &[b"1.0", b"2", b"200", b"OK", b"user", b""],
        code: ZAP_BAD_REQUEST_ID,
    },
    Malformed {
        what: "bad status",
        frames: &[b"1.0", b"1", b"201", b"OK", b"user", b""],
        code: ZAP_INVALID_STATUS_CODE,
    },
    Malformed {
        what: "bad metadata",
        frames: &[b"1.0", b"1", b"200", b"OK", b"user", b"\x05X-abc\0\0"],
        code: ZAP_INVALID_METADATA,
    },
];
