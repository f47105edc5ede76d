package io.slipstream.worker.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.proto.v1.LoadReport;
import io.slipstream.proto.v1.Role;
import java.time.Clock;
import org.junit.jupiter.api.Test;

class LoadSamplerTest {

    @Test
    void sample_wanoptAndCacheCounters_reportedCumulatively() {
        DataPlaneStats stats = new DataPlaneStats();
        LoadSampler sampler = new LoadSampler(new WorkerLifecycle("w1", Role.ROLE_WANOPT, "a"), stats, 1000,
                Clock.systemUTC(), () -> 0.5);
        long[] cache = {7, 3, 4};
        sampler.cacheFrom(new LoadSampler.CacheCounters() {
            @Override
            public long hits() {
                return cache[0];
            }

            @Override
            public long misses() {
                return cache[1];
            }

            @Override
            public long originRequests() {
                return cache[2];
            }

            @Override
            public long originBytes() {
                return 32768;
            }
        });
        LoadSampler.Cursor cursor = sampler.cursor();
        stats.addWanoptAppBytes(1000);
        stats.addWanoptWanBytes(250);
        LoadReport first = cursor.sample();
        stats.addWanoptAppBytes(1000);
        stats.addWanoptWanBytes(50);
        LoadReport second = cursor.sample();

        assertThat(first.getWanoptAppBytes()).isEqualTo(1000);
        assertThat(first.getWanoptWanBytes()).isEqualTo(250);
        assertThat(second.getWanoptAppBytes()).isEqualTo(2000);
        assertThat(second.getWanoptWanBytes()).isEqualTo(300);
        assertThat(second.getCacheHits()).isEqualTo(7);
        assertThat(second.getCacheLookups()).isEqualTo(10);
        assertThat(second.getCacheOriginRequests()).isEqualTo(4);
        assertThat(second.getCacheOriginBytes()).isEqualTo(32768);
    }

    @Test
    void sample_chunkStores_reportedAsTheWanoptRoleGivesThem() {
        LoadSampler sampler = new LoadSampler(new WorkerLifecycle("w1", Role.ROLE_WANOPT, "a"), new DataPlaneStats(),
                1000, Clock.systemUTC(), () -> 0);
        assertThat(sampler.cursor().sample().getChunkStoresList()).isEmpty();
        io.slipstream.proto.v1.ChunkStoreState state = io.slipstream.proto.v1.ChunkStoreState.newBuilder()
                .setPeerWorkerId("w2").setStore("received").setAvailable(true).setBytesOnDisk(4096).setEvictions(3)
                .build();
        sampler.chunkStoresFrom(() -> java.util.List.of(state));
        assertThat(sampler.cursor().sample().getChunkStoresList()).containsExactly(state);
    }

    @Test
    void sample_wanoptEncodings_reportedCumulatively() {
        DataPlaneStats stats = new DataPlaneStats();
        LoadSampler sampler = new LoadSampler(new WorkerLifecycle("w1", Role.ROLE_WANOPT, "a"), stats, 1000,
                Clock.systemUTC(), () -> 0);
        LoadSampler.Cursor cursor = sampler.cursor();
        stats.addWanoptEncoded(DataPlaneStats.WanoptEncoding.REFERENCE, 100);
        stats.addWanoptEncoded(DataPlaneStats.WanoptEncoding.DELTA, 20);
        stats.addWanoptEncoded(DataPlaneStats.WanoptEncoding.LITERAL, 3);
        stats.addWanoptEncoded(DataPlaneStats.WanoptEncoding.RAW, 4);
        stats.wanoptDeltaCandidate(true);
        stats.wanoptDeltaCandidate(false);
        cursor.sample();
        stats.addWanoptEncoded(DataPlaneStats.WanoptEncoding.DELTA, 5);
        stats.wanoptDeltaCandidate(true);
        LoadReport report = cursor.sample();

        assertThat(report.getWanoptReferenceBytes()).isEqualTo(100);
        assertThat(report.getWanoptDeltaBytes()).isEqualTo(25);
        assertThat(report.getWanoptLiteralBytes()).isEqualTo(3);
        assertThat(report.getWanoptRawBytes()).isEqualTo(4);
        assertThat(report.getWanoptDeltaCandidates()).isEqualTo(3);
        assertThat(report.getWanoptDeltaHits()).isEqualTo(2);
    }

    @Test
    void sample_noCache_cacheFiguresZero() {
        LoadSampler sampler = new LoadSampler(new WorkerLifecycle("w1", Role.ROLE_GATEWAY, "a"),
                new DataPlaneStats(), 1000, Clock.systemUTC(), () -> 0);
        LoadReport report = sampler.cursor().sample();
        assertThat(report.getCacheLookups()).isZero();
        assertThat(report.getWanoptAppBytes()).isZero();
    }
}
