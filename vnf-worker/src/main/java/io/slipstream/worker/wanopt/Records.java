package io.slipstream.worker.wanopt;

/**
 * Records inside a DATA frame's payload. A payload is a sequence of records, each starting with a
 * one-byte tag:
 *
 * <pre>
 * RAW   1  u32 length, bytes                       bytes sent as they are (incompressible data)
 * BLOCK 2  compression envelope                    bytes compressed, not deduplicated (a stream's tail)
 * LIT   3  fingerprint (16), compression envelope  a new chunk: verify its fingerprint, store it, deliver it
 * REF   4  fingerprint (16), u32 length            a chunk the receiver holds: deliver it from the store
 * </pre>
 *
 * A CHUNK frame (the answer to NEED) carries one fingerprint and envelope, stored but not delivered.
 * The envelope is self-describing (codec, sizes, checksum; see docs/compression.md).
 */
final class Records {

    static final int RAW = 1;
    static final int BLOCK = 2;
    static final int LIT = 3;
    static final int REF = 4;

    private Records() {}
}
