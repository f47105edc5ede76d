package io.slipstream.contract;

import io.slipstream.proto.v1.WorkerConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Hex SHA-256 of a worker configuration with its generation cleared, serialized
 * deterministically. The controller compares it with what a worker reports so that it pushes only
 * configurations that differ (no reprogramming storm after a controller restart).
 */
public final class ConfigDigest {

    private ConfigDigest() {}

    public static String of(WorkerConfig config) {
        WorkerConfig normalized = config.toBuilder().clearGeneration().build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(normalized.getSerializedSize());
        try {
            com.google.protobuf.CodedOutputStream out =
                    com.google.protobuf.CodedOutputStream.newInstance(bytes);
            out.useDeterministicSerialization();
            normalized.writeTo(out);
            out.flush();
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] hash = sha.digest(bytes.toByteArray());
            StringBuilder hex = new StringBuilder(hash.length * 2);
            for (byte b : hash) {
                hex.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
            }
            return hex.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }
}
