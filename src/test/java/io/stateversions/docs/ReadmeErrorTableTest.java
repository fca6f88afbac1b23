package io.stateversions.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.api.ErrorCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * README's error table is the users' copy of {@link ErrorCode}: every code is in it, once, with the HTTP and gRPC
 * status the service answers, a meaning and what a client does. A code added to the enum without a row fails here.
 */
class ReadmeErrorTableTest {

    private static final String HEADER = "| code | HTTP | gRPC | when (members) | what the client does |";
    private static final Pattern CODE = Pattern.compile("`([a-z_]+)`");

    /** One row of the table: the status columns of every code its first column names. */
    private record Row(String line, int http, String grpc, String meaning, String clientAction) {}

    @Test
    void everyErrorCodeHasOneRowWithItsStatusesAMeaningAndWhatAClientDoes() throws Exception {
        Map<String, Row> rows = table();
        assertThat(rows.keySet()).as("the codes of README's error table")
                .containsExactlyInAnyOrderElementsOf(Arrays.stream(ErrorCode.values()).map(ErrorCode::code).toList());
        for (ErrorCode code : ErrorCode.values()) {
            Row row = rows.get(code.code());
            assertThat(row.http()).as(row.line()).isEqualTo(code.httpStatus());
            assertThat(row.grpc()).as(row.line()).isEqualTo(code.grpcStatus().name());
            assertThat(row.meaning()).as(row.line()).isNotBlank();
            assertThat(row.clientAction()).as(row.line()).isNotBlank();
        }
    }

    private static Map<String, Row> table() throws Exception {
        List<String> lines = Files.readAllLines(Path.of(System.getProperty("user.dir"), "README.md"));
        int header = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).trim().equals(HEADER)) {
                assertThat(header).as("one error table in README.md").isEqualTo(-1);
                header = i;
            }
        }
        assertThat(header).as("README.md has the error table headed %s", HEADER).isNotNegative();
        Map<String, Row> rows = new LinkedHashMap<>();
        for (int i = header + 2; i < lines.size() && lines.get(i).trim().startsWith("|"); i++) {
            String line = lines.get(i).trim();
            String[] cells = line.substring(1, line.length() - 1).split("\\|", -1);
            assertThat(cells).as(line).hasSize(5);
            Row row = new Row(line, Integer.parseInt(cells[1].trim()), cells[2].trim(), cells[3].trim(),
                    cells[4].trim());
            Matcher codes = CODE.matcher(cells[0]);
            int named = 0;
            while (codes.find()) {
                assertThat(rows.put(codes.group(1), row)).as("%s has one row", codes.group(1)).isNull();
                named++;
            }
            assertThat(named).as("a row names its codes: %s", line).isPositive();
        }
        return rows;
    }
}
