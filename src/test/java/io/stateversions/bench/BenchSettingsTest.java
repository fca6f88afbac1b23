package io.stateversions.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The benchmark's settings of P9 and the memory workload. */
class BenchSettingsTest {

    @Test
    void p9AndMemorySizesParseAndTheRemovedOpenShardsIsRefused() {
        BenchSettings settings = BenchSettings.parse(List.of("workloads=p9,memory,floor", "p9-batches=500",
                "p9-small-batches=50", "memory-shards=300"));

        assertThat(settings.workloads()).containsExactly("p9", "memory", "floor");
        assertThat(settings.p9Batches()).isEqualTo(500);
        assertThat(settings.p9SmallBatches()).isEqualTo(50);
        assertThat(settings.memoryShards()).isEqualTo(300);
        assertThat(BenchSettings.defaults().workloads()).contains("p9", "memory", "floor");
        assertThatThrownBy(() -> BenchSettings.parse(List.of("open-shards=5")))
                .hasMessageContaining("unknown benchmark settings [open-shards]");
    }

    @Test
    void theServiceRunsOnTheBenchmarksOwnJavaUnlessAnotherIsGiven() {
        String own = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();

        assertThat(BenchSettings.defaults().serviceJava()).isEqualTo(own);
        assertThat(BenchSettings.parse(List.of("service-java=/opt/jdk-25/bin/java")).serviceJava())
                .isEqualTo("/opt/jdk-25/bin/java");
    }
}
