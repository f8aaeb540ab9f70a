#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/seeds/<target>/. Deterministic; rerun after editing.

frame_decoder seeds are raw frames. connection seeds carry the 7-byte prefix that
fuzz_targets/connection.rs reads (flags, four piece lengths, two bytes of send ops) before the stream.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MASK = bytes([0x37, 0xFA, 0x21, 0x3D])


def frame(opcode, payload=b"", fin=True, mask=None, rsv=0, length=None):
    """A frame; `length` overrides the declared length (for header-only seeds)."""
    n = len(payload) if length is None else length
    out = bytearray([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mbit = 0x80 if mask else 0
    if n < 126:
        out.append(mbit | n)
    elif n <= 0xFFFF:
        out += bytes([mbit | 126]) + struct.pack(">H", n)
    else:
        out += bytes([mbit | 127]) + struct.pack(">Q", n)
    if mask:
        out += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes(out) + payload


def rfc_frames(mask):
    """RFC 6455 5.7 examples plus invalid ones, masked with `mask` (None: unmasked)."""
    return {
        "hello": frame(0x1, b"Hello", mask=mask),
        "fragmented_hello": frame(0x1, b"Hel", fin=False, mask=mask) + frame(0x0, b"lo", mask=mask),
        "ping": frame(0x9, b"Hello", mask=mask),
        "pong": frame(0xA, b"Hello", mask=mask),
        "binary_256": frame(0x2, bytes(range(256)), mask=mask),
        "binary_64k_header": frame(0x2, b"\x00" * 64, mask=mask, length=65536),
        "close_1000": frame(0x8, struct.pack(">H", 1000) + b"bye", mask=mask),
        "ping_between_fragments": frame(0x1, "κό".encode(), fin=False, mask=mask)
        + frame(0x9, b"", mask=mask)
        + frame(0x0, "σμε".encode(), mask=mask),
        "invalid_reserved_opcode": frame(0x3, b"x", mask=mask),
        "invalid_rsv_bits": frame(0x1, b"Hello", mask=mask, rsv=0b100),
        "invalid_fragmented_control": frame(0x9, b"Hello", fin=False, mask=mask),
        "invalid_length_top_bit": frame(0x2, b"", mask=mask, length=1 << 63),
        "invalid_utf8": frame(0x1, b"\xce\xba\xf4\x90\x80\x80", mask=mask),
        "invalid_close_code": frame(0x8, struct.pack(">H", 1005), mask=mask),
    }


def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    # RFC 6455 5.7, byte for byte.
    assert frame(0x1, b"Hello") == bytes.fromhex("810548656c6c6f")
    assert frame(0x1, b"Hello", mask=MASK) == bytes.fromhex("818537fa213d7f9f4d5158")
    assert frame(0x2, b"", length=256)[:4] == bytes.fromhex("827e0100")
    assert frame(0x2, b"", length=65536)[:10] == bytes.fromhex("827f0000000000010000")

    for name, data in rfc_frames(None).items():
        write("frame_decoder", "unmasked_" + name, data)
    for name, data in rfc_frames(MASK).items():
        write("frame_decoder", "masked_" + name, data)
    write("frame_decoder", "non_minimal_length", bytes.fromhex("817e0005") + b"Hello")
    write("frame_decoder", "rsv_all", bytes.fromhex("f200"))

    # connection: server role reads masked frames, client role unmasked ones.
    whole = bytes([0, 0, 0, 0])  # each piece is the rest of the stream
    cuts = bytes([1, 3, 0x81, 0])  # 1, 3, 512 bytes, then the rest
    for role, flags, mask in (("server", 0b0000, MASK), ("client", 0b0001, None)):
        for name, data in rfc_frames(mask).items():
            write("connection", f"{role}_{name}", bytes([flags]) + whole + b"\x00\x00" + data)
        stream = b"".join(rfc_frames(mask)[k] for k in ("fragmented_hello", "ping", "binary_256", "close_1000"))
        write("connection", f"{role}_cut_stream", bytes([flags]) + cuts + b"\x00\x00" + stream)
        write("connection", f"{role}_streaming", bytes([flags | 0b10]) + cuts + b"\x00\x00" + stream)
        # send_text, ping, close between pieces (ops 0b11_10_01 = 0x39).
        write("connection", f"{role}_with_sends", bytes([flags | 0b1000]) + cuts + b"\x39\x00" + stream)

    session_seeds()


def session_seeds():
    """fuzz_targets/session.rs: flags, then ops (low 4 bits op, high 4 bits arg; arg bit 0 = the
    server's side, bit 3 = a remote call run at the next step)."""
    def call(op, side=0, data=b"", arg=0, remote=False):
        a = side | (arg << 1) | (0b1000 if remote else 0)
        return bytes([(a << 4) | op, len(data)]) + data

    def move(side, amount_index):  # amounts: 0 (all), 1, 2, 3, 7, 14, 100, 1000
        return bytes([((side | (amount_index << 1)) << 4) | 9])

    everything = bytes([15])
    echo = (everything + call(0, 0, b"hello") + everything + call(1, 1, b"\x00\x01\x02") + everything
            + call(7, 0) + everything + everything)
    write("session", "echo_and_close", b"\x00" + echo)
    write("session", "echo_streaming_byte_by_byte", b"\x0b" + echo)
    fragmented = (everything + call(2, 0, b"frag", arg=0) + call(5, 0, b"ping") + call(3, 0, b"men")
                  + call(4, 0, b"ted") + b"".join(move(0, 1) for _ in range(40)) + everything + call(7, 1))
    write("session", "fragmented_with_pings_one_byte_moves", b"\x00" + fragmented + everything)
    write("session", "remote_send_after_close",
          b"\x00" + everything + call(7, 0) + call(0, 0, b"late", remote=True) + everything + everything)
    write("session", "abort_mid_message", b"\x00" + everything + call(1, 0, b"x" * 200) + move(0, 4) + bytes([14])
          + call(0, 1, b"after abort") + everything)
    paused = (everything + bytes([10]) + call(0, 0, b"one") + call(0, 0, b"two") + everything
              + bytes([11]) + everything + bytes([0x10 | 10]) + call(0, 1, b"held") + call(8, 0) + everything
              + bytes([0x10 | 11]) + everything)
    write("session", "pause_resume_and_close_while_paused", b"\x00" + paused)
    corrupt = everything + bytes([12, 4]) + bytes.fromhex("81051234") + everything + everything
    write("session", "garbage_from_the_client", b"\x00" + corrupt)
    write("session", "dropped_bytes_in_flight", b"\x00" + everything + call(0, 0, b"hello") + bytes([(3 << 5) | 13])
          + everything + everything)


if __name__ == "__main__":
    main()
