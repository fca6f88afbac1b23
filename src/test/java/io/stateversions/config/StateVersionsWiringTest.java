package io.stateversions.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.core.Codecs;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.Version;
import io.stateversions.metrics.StateMetrics;
import io.stateversions.stateversions.StateVersions;
import io.stateversions.testing.Management;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The state layer as the application wires it: configuration, the build version, storage and metrics. */
@QuarkusTest
class StateVersionsWiringTest {

    @Inject
    StateVersions versions;

    @Inject
    PersistConfig cfg;

    @Test
    void theBuildVersionIsTheProjectVersion() throws IOException {
        Matcher m = Pattern.compile("<artifactId>state-versions</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(Files.readString(Path.of("pom.xml")));
        assertThat(m.find()).isTrue();
        assertThat(BuildInfo.VERSION_STRING).isEqualTo(m.group(1));
        assertThat(cfg.buildVersion()).isEqualTo(Version.parse(m.group(1)));
        assertThat(cfg.rollupThreshold()).isEqualTo(128);
        assertThat(cfg.recentLiveDiffsLimit()).isEqualTo(3840);
        assertThat(cfg.staleRollupRefetchBudgetMs()).isEqualTo(5_000);
    }

    @Test
    void anInitializedShardIsStoredAndItsGaugesAreScraped() throws Exception {
        ShardId shard = ShardId.random();
        Codecs codecs = new Codecs("bytes", "bytes", "u64", "i64");
        State state = versions.maybeInitShard(shard, codecs).get(30, TimeUnit.SECONDS);

        assertThat(state.seqno()).isEqualTo(SeqNo.of(1));
        assertThat(state.codecs()).isEqualTo(codecs);
        assertThat(state.collections().version()).isEqualTo(cfg.buildVersion());
        assertThat(versions.maybeInitShard(shard, codecs).get(30, TimeUnit.SECONDS)).isEqualTo(state);

        String metrics = Management.given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics)
                .contains("stateversions_shards ")
                .contains("stateversions_shards_max{stat=\"rollup_count\"}")
                .contains("stateversions_rollup_writes_total{result=\"success\"}")
                .contains("stateversions_state_recent_live_diffs_total{path=\"fast\"}");
    }

    @Inject
    StateMetrics stateMetrics;

    @Test
    void giveUpsOfRefetchingAMissingRollupAreScrapedByOperationAndReason() {
        stateMetrics.staleRollupGaveUp("fetch_live_states", "budget");

        String metrics = Management.given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics).contains(
                "stateversions_state_stale_rollup_gave_up_total{op=\"fetch_live_states\",reason=\"budget\"}");
    }
}
