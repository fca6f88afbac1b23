package io.stateversions.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Descriptors;
import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.core.ShardId;
import io.stateversions.testing.ReflectionClient;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Runs README's Walkthrough as a user would, so that it cannot rot: every {@code ```shell walkthrough} block in
 * order, against this service (its port in place of {@code localhost:8080}, fresh shard ids in place of the
 * README's, so the tour can run on any storage again and again). A block followed by an output block
 * ({@code ```json} or {@code ```text}) must exit 0 (or the block's {@code exit=N}) and print that shape; a block
 * without one sets variables, and runs before every later block.
 *
 * <p>curl blocks run in {@code bash}. grpcurl is a Go program that a test machine may lack, so its commands are
 * parsed ({@code -plaintext}, {@code -d '<json>'}, the address, then {@code list} or a method) and sent by a
 * generic reflection client that does what grpcurl does: finds the method through server reflection, builds the
 * request from the JSON and prints the answer in protobuf's JSON mapping, or an error as grpcurl prints it.
 *
 * <p>The shape of JSON: every field shown is present with a value of the same JSON type (fields and array elements
 * may be left out to abbreviate); {@code seqno}, {@code code}, {@code status} and booleans have the value shown. The
 * shape of text: the same lines, compared with UUIDs masked, except that {@code data:} lines compare as JSON and a
 * {@code Message:} line by its key only.
 */
@QuarkusTest
class ReadmeWalkthroughTest {

    private static final Pattern FENCE = Pattern.compile("^```(\\S*)(.*)$");
    private static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Pattern SHARD_ID = Pattern.compile("s" + UUID.pattern());
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/")
    URL http;

    /** One command block of the walkthrough and the output block after it (null: a block that sets variables). */
    private record Step(int line, String script, int exit, String outputKind, String output) {}

    @Test
    void everyWalkthroughCommandRunsAndPrintsWhatTheReadmeShows() throws Exception {
        List<Step> steps = steps();
        assertThat(steps).as("README's walkthrough blocks").hasSizeGreaterThan(10);
        assertThat(steps.stream().filter(s -> s.script().startsWith("grpcurl"))).as("gRPC steps").isNotEmpty();
        Map<String, String> shards = new HashMap<>();
        StringBuilder variables = new StringBuilder();
        ManagedChannel channel = NettyChannelBuilder.forAddress(http.getHost(), http.getPort()).usePlaintext().build();
        try {
            ReflectionClient grpc = new ReflectionClient(channel);
            for (Step step : steps) {
                String script = freshShards(step.script(), shards).replace("localhost:8080",
                        http.getHost() + ":" + http.getPort());
                if (step.output() == null) {
                    assertThat(bash(variables + script).exit()).as("README.md:%d %s", step.line(), script).isZero();
                    variables.append(script).append('\n');
                    continue;
                }
                Result result = script.startsWith("grpcurl") ? grpcurl(grpc, script) : bash(variables + script);
                String as = "README.md:" + step.line() + "\n" + script + "\nprinted:\n" + result.output();
                assertThat(result.exit()).as(as).isEqualTo(step.exit());
                String expected = freshShards(step.output(), shards);
                if (step.outputKind().equals("json")) {
                    assertSameShape(JSON.readTree(expected), JSON.readTree(result.output()), "$", as);
                } else {
                    assertSameText(expected, result.output(), as);
                }
            }
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    // ----------------------------------------------------------------------------------------------- README

    private static List<Step> steps() throws Exception {
        List<String> lines = Files.readAllLines(Path.of(System.getProperty("user.dir"), "README.md"));
        int start = lines.indexOf("## Walkthrough");
        assertThat(start).as("README.md has a ## Walkthrough section").isNotNegative();
        List<Step> steps = new ArrayList<>();
        int i = start + 1;
        while (i < lines.size() && !(lines.get(i).startsWith("## "))) {
            Matcher fence = FENCE.matcher(lines.get(i));
            if (!fence.matches() || !fence.group(1).equals("shell") || !fence.group(2).contains("walkthrough")) {
                i++;
                continue;
            }
            int line = i + 1;
            Matcher exit = Pattern.compile("exit=(\\d+)").matcher(fence.group(2));
            int expectedExit = exit.find() ? Integer.parseInt(exit.group(1)) : 0;
            StringBuilder script = new StringBuilder();
            for (i++; !lines.get(i).equals("```"); i++) {
                script.append(lines.get(i)).append('\n');
            }
            i++;
            while (i < lines.size() && lines.get(i).isBlank()) {
                i++;
            }
            Matcher output = FENCE.matcher(i < lines.size() ? lines.get(i) : "");
            if (output.matches() && (output.group(1).equals("json") || output.group(1).equals("text"))) {
                StringBuilder shown = new StringBuilder();
                for (i++; !lines.get(i).equals("```"); i++) {
                    shown.append(lines.get(i)).append('\n');
                }
                i++;
                steps.add(new Step(line, script.toString(), expectedExit, output.group(1), shown.toString()));
            } else {
                steps.add(new Step(line, script.toString(), expectedExit, null, null));
            }
        }
        return steps;
    }

    /** {@code text} with each shard id replaced by a fresh one, the same for every mention of it. */
    private static String freshShards(String text, Map<String, String> shards) {
        return SHARD_ID.matcher(text).replaceAll(m -> shards.computeIfAbsent(m.group(), id -> ShardId.random().toString()));
    }

    // -------------------------------------------------------------------------------------------- commands

    private record Result(int exit, String output) {}

    private static Result bash(String script) throws Exception {
        Process process = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s ended", script).isTrue();
        return new Result(process.exitValue(), output);
    }

    /** grpcurl's {@code [-plaintext] [-d '<json>'] <address> (list | <service>/<method>)}, as grpcurl prints it. */
    private static Result grpcurl(ReflectionClient grpc, String command) throws Exception {
        List<String> words = shellWords(command.replace("\\\n", " "));
        assertThat(words.get(0)).isEqualTo("grpcurl");
        String data = null;
        List<String> positional = new ArrayList<>();
        for (Iterator<String> it = words.subList(1, words.size()).iterator(); it.hasNext();) {
            String word = it.next();
            if (word.equals("-d")) {
                data = it.next();
            } else if (!word.equals("-plaintext")) {
                assertThat(word).as("an option this test knows: %s", command).doesNotStartWith("-");
                positional.add(word);
            }
        }
        assertThat(positional).as(command).hasSize(2);
        String what = positional.get(1);
        if (what.equals("list")) {
            return new Result(0, String.join("\n", grpc.services().stream().sorted().toList()) + "\n");
        }
        int slash = what.lastIndexOf('/');
        Descriptors.ServiceDescriptor service = grpc.service(what.substring(0, slash));
        try {
            String response = JsonFormat.printer().print(grpc.call(service, what.substring(slash + 1),
                    data == null ? "{}" : data));
            return new Result(0, response + "\n");
        } catch (StatusRuntimeException e) {
            return new Result(64 + e.getStatus().getCode().value(), "ERROR:\n  Code: " + camelCase(e.getStatus().getCode().name()) + "\n  Message: "
                    + e.getStatus().getDescription() + "\n");
        }
    }

    /** Go's name of a gRPC code, as grpcurl prints it: {@code FAILED_PRECONDITION} is {@code FailedPrecondition}. */
    private static String camelCase(String code) {
        StringBuilder name = new StringBuilder();
        for (String word : code.split("_")) {
            name.append(word.charAt(0)).append(word.substring(1).toLowerCase());
        }
        return name.toString();
    }

    /** Splits a command line as a shell does for words, single quotes and double quotes (no expansions). */
    private static List<String> shellWords(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = null;
        char quote = 0;
        for (char c : line.toCharArray()) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                word = word == null ? new StringBuilder() : word;
            } else if (Character.isWhitespace(c)) {
                if (word != null) {
                    words.add(word.toString());
                    word = null;
                }
            } else {
                word = word == null ? new StringBuilder() : word;
                word.append(c);
            }
        }
        if (word != null) {
            words.add(word.toString());
        }
        return words;
    }

    // ------------------------------------------------------------------------------------------------ shapes

    private static void assertSameShape(JsonNode shown, JsonNode actual, String path, String as) {
        assertThat(actual).as("%s at %s", as, path).isNotNull();
        assertThat(actual.getNodeType()).as("%s: the type at %s", as, path).isEqualTo(shown.getNodeType());
        if (shown.isObject()) {
            shown.fieldNames().forEachRemaining(field -> assertSameShape(shown.get(field), actual.get(field),
                    path + "." + field, as));
        } else if (shown.isArray()) {
            assertThat(actual.size()).as("%s: elements at %s", as, path).isGreaterThanOrEqualTo(shown.size());
            for (int i = 0; i < shown.size(); i++) {
                assertSameShape(shown.get(i), actual.get(i), path + "[" + i + "]", as);
            }
        } else if (shown.isBoolean() || path.endsWith(".seqno") || path.endsWith(".code") || path.endsWith(".status")) {
            assertThat(actual).as("%s: the value at %s", as, path).isEqualTo(shown);
        }
    }

    private static void assertSameText(String shown, String actual, String as) throws Exception {
        List<String> expected = shown.lines().filter(l -> !l.isBlank()).toList();
        List<String> printed = actual.lines().filter(l -> !l.isBlank()).toList();
        assertThat(printed).as(as).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            String e = expected.get(i);
            String p = printed.get(i);
            if (e.startsWith("data: ")) {
                assertThat(p).as(as).startsWith("data: ");
                assertSameShape(JSON.readTree(e.substring(6)), JSON.readTree(p.substring(6)), "data", as);
            } else if (e.trim().startsWith("Message: ")) {
                assertThat(p.trim()).as(as).startsWith("Message: ");
            } else {
                assertThat(masked(p)).as(as).isEqualTo(masked(e));
            }
        }
    }

    private static String masked(String text) {
        return UUID.matcher(text).replaceAll("<uuid>");
    }
}
