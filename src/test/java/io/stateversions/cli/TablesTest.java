package io.stateversions.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.Test;

/** {@code --format table}: fields as aligned lines, lists of objects as aligned tables, long messages whole. */
class TablesTest {

    @Test
    void fieldsThenTables() throws Exception {
        String table = Tables.render(JsonMapper.builder().build().readTree("""
                {"earliest": 5, "current": 7, "next": null,
                 "versions": [{"seqno": 5, "walltimeMs": 100, "diffBytes": 42},
                              {"seqno": 6, "walltimeMs": 101, "diffBytes": 1234}],
                 "shards": ["s1", "s2"]}"""));
        assertThat(table).isEqualTo("""
                earliest  5
                current   7
                next      -

                versions (2)
                  seqno  walltimeMs  diffBytes
                  5      100         42
                  6      101         1234

                shards (2)
                  s1
                  s2
                """);
    }

    @Test
    void aViolationIsPrintedWhole() throws Exception {
        String violation = "invariant violated for shard s1: " + "x".repeat(300);
        String table = Tables.render(JsonMapper.builder().build().readTree("{\"ok\": false, \"violation\": \""
                + violation + "\"}"));
        assertThat(table).contains(violation);
    }
}
