package io.slipstream.worker.dedup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.zip.CRC32C;

/**
 * What a worker's chunk stores are named by on the wire: a store epoch (random, never 0) and the 16-byte
 * fingerprint key, announced in the tunnel HELLO. Kept in a file (owner read/write only: the key is a secret)
 * so that after a restart the worker announces the same pair and its peers keep what they know of its stores.
 * A missing or damaged file gives a new identity, and the stores made under the old one must be dropped
 * ({@link #created()}). Record: magic, version, epoch, key, CRC32C.
 *
 * @param epoch the store epoch
 * @param key the fingerprint key
 * @param created whether this identity was just made (no usable file was found)
 */
public record StoreIdentity(long epoch, byte[] key, boolean created) {

    public static final int KEY_BYTES = 16;
    private static final int MAGIC = 0x53534944; // "SSID"
    private static final int VERSION = 1;
    private static final int FILE_BYTES = 4 + 4 + 8 + KEY_BYTES + 4;

    public StoreIdentity {
        if (key.length != KEY_BYTES) {
            throw new IllegalArgumentException("key: " + key.length + " bytes (expected: " + KEY_BYTES + ")");
        }
        key = key.clone();
    }

    @Override
    public byte[] key() {
        return key.clone();
    }

    /** A new random identity (not saved). */
    public static StoreIdentity random() {
        SecureRandom random = new SecureRandom();
        byte[] key = new byte[KEY_BYTES];
        random.nextBytes(key);
        long epoch;
        do {
            epoch = random.nextLong();
        } while (epoch == 0);
        return new StoreIdentity(epoch, key, true);
    }

    /**
     * The identity saved in {@code file}, or a new one saved there (mode 0600) when the file is missing or does
     * not check out.
     *
     * @throws IOException the file cannot be written
     */
    public static StoreIdentity loadOrCreate(Path file) throws IOException {
        if (Files.isRegularFile(file)) {
            byte[] bytes = Files.readAllBytes(file);
            StoreIdentity read = parse(bytes);
            if (read != null) {
                return read;
            }
        }
        StoreIdentity fresh = random();
        save(file, fresh.encode());
        return fresh;
    }

    private static StoreIdentity parse(byte[] bytes) {
        if (bytes.length != FILE_BYTES) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, FILE_BYTES - 4);
        if (b.getInt(0) != MAGIC || b.getInt(4) != VERSION || b.getInt(FILE_BYTES - 4) != (int) crc.getValue()
                || b.getLong(8) == 0) {
            return null;
        }
        byte[] key = new byte[KEY_BYTES];
        b.get(16, key);
        return new StoreIdentity(b.getLong(8), key, false);
    }

    private byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(FILE_BYTES);
        b.putInt(MAGIC).putInt(VERSION).putLong(epoch).put(key);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, FILE_BYTES - 4);
        b.putInt((int) crc.getValue());
        return b.array();
    }

    /** Writes {@code bytes} to {@code file} through a temporary file of mode 0600 renamed over it. */
    static void save(Path file, byte[] bytes) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The peer's identity as last seen, kept beside the pair's stores; null when none is saved or usable. */
    public static StoreIdentity loadPeer(Path file) throws IOException {
        return Files.isRegularFile(file) ? parse(Files.readAllBytes(file)) : null;
    }

    /** Saves a peer's identity as seen in its HELLO (mode 0600). */
    public void savePeer(Path file) throws IOException {
        save(file, encode());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StoreIdentity other && other.epoch == epoch && java.util.Arrays.equals(other.key, key);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(epoch) * 31 + java.util.Arrays.hashCode(key);
    }

    @Override
    public String toString() {
        return "StoreIdentity{epoch=" + Long.toHexString(epoch) + ", key=(hidden)}";
    }
}
