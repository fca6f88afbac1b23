package io.stateversions.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.stateversions.api.ApiException;
import io.stateversions.api.ShardApi;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.logging.Level;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;

/**
 * The command-line tool: {@code java -jar target/cli/state-versions-cli.jar COMMAND [OPTIONS]}. Online it asks a
 * service ({@code --url}, REST); offline it reads storage itself ({@code --consensus} and {@code --blob}), for when
 * the service is down. JSON on standard output by default (the REST API's shapes, in both modes), a table with
 * {@code --format table}. Exit status: 0 done, 1 {@code check} found a violation, 2 bad usage, 3 the service or
 * storage failed or refused (the message says why, with the API's error code).
 */
@Command(name = "state-versions-cli", mixinStandardHelpOptions = true, versionProvider = StateVersionsCli.Version.class,
        description = "Inspect shards of state-versions: against a service (--url) or straight against storage"
                + " (--consensus and --blob).",
        subcommands = {StateVersionsCli.Shards.class, StateVersionsCli.State.class, StateVersionsCli.Versions.class,
                StateVersionsCli.Diff.class, StateVersionsCli.Rollups.class, StateVersionsCli.Blobs.class,
                StateVersionsCli.Check.class, StateVersionsCli.Gc.class, StateVersionsCli.Rollup.class,
                StateVersionsCli.Sweep.class, CommandLine.HelpCommand.class})
public final class StateVersionsCli {

    /** A violation found by {@code check}. */
    static final int VIOLATION = 1;
    /** Bad usage: unknown options, a malformed id, no or two modes. */
    static final int USAGE = 2;

    /** The output formats. */
    enum Format { json, table }

    @Option(names = "--url", scope = ScopeType.INHERIT, paramLabel = "URL", defaultValue = "${env:STATEVERSIONS_URL}",
            description = "Online: the service's API, e.g. http://localhost:8080 (env STATEVERSIONS_URL).")
    String url;

    @Option(names = "--token", scope = ScopeType.INHERIT, paramLabel = "JWT",
            defaultValue = "${env:STATEVERSIONS_TOKEN}",
            description = "Online, with security on: a bearer token (env STATEVERSIONS_TOKEN).")
    String token;

    @Option(names = "--consensus", scope = ScopeType.INHERIT, paramLabel = "URL",
            defaultValue = "${env:STATEVERSIONS_CONSENSUS_URL}",
            description = "Offline: the Consensus, postgres://user:password@host:port/database"
                    + " (env STATEVERSIONS_CONSENSUS_URL).")
    String consensus;

    @Option(names = "--blob", scope = ScopeType.INHERIT, paramLabel = "URL",
            defaultValue = "${env:STATEVERSIONS_BLOB_URL}",
            description = "Offline: the Blob store, s3://[key:secret@]bucket[/prefix]?region=…[&endpoint=…"
                    + "&path-style=true] or file:///dir (env STATEVERSIONS_BLOB_URL).")
    String blob;

    @Option(names = "--format", scope = ScopeType.INHERIT, defaultValue = "json",
            description = "json (default) or table.")
    Format format;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs one command line, printing to {@code out} and {@code err}; returns the exit status. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        quietLogs();
        CommandLine cli = new CommandLine(new StateVersionsCli()).setOut(out).setErr(err)
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler((e, commandLine, parsed) -> {
                    if (e instanceof CliException failure) {
                        err.println("error: " + failure.getMessage());
                        return failure.exitCode();
                    }
                    if (e instanceof ApiException bad) {
                        err.println("error: " + bad.code().httpStatus() + " " + bad.code().code() + ": "
                                + bad.detail());
                        return USAGE;
                    }
                    err.println("error: " + e);
                    return CliException.FAILED;
                });
        return cli.execute(args);
    }

    /**
     * The storage clients log their retries to standard error, once per attempt; the tool reports the failure they
     * end in itself, with its cause, so only severe log records are shown.
     */
    private static void quietLogs() {
        System.setProperty("org.jboss.logging.provider", "jdk");
        java.util.logging.Logger.getLogger("").setLevel(Level.SEVERE);
        for (java.util.logging.Handler handler : java.util.logging.Logger.getLogger("").getHandlers()) {
            handler.setLevel(Level.SEVERE);
        }
    }

    /** Opens the target the options name, runs {@code command} on it and prints the answer. */
    int print(CommandLine.Model.CommandSpec spec, Function<Target, JsonNode> command) {
        JsonNode answer;
        try (Target target = target()) {
            answer = command.apply(target);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(format == Format.table ? Tables.render(answer) : Commands.JSON.valueToTree(answer).toPrettyString()
                + "\n");
        out.flush();
        return 0;
    }

    private Target target() {
        boolean online = present(url);
        boolean offline = present(consensus) || present(blob);
        if (online == offline) {
            throw new CliException(online ? "give either --url (online) or --consensus and --blob (offline), not both"
                    : "give --url URL (online), or --consensus URL and --blob URL (offline)", USAGE);
        }
        if (online) {
            return new OnlineTarget(url, Optional.ofNullable(token).filter(StateVersionsCli::present),
                    Commands.JSON);
        }
        if (!present(consensus) || !present(blob)) {
            throw new CliException("offline mode needs both --consensus and --blob", USAGE);
        }
        return new OfflineTarget(consensus, blob);
    }

    private static boolean present(String value) {
        return value != null && !value.isBlank();
    }

    // ------------------------------------------------------------------------------------------ commands

    /** A command of one shard. */
    abstract static class ShardCommand implements Callable<Integer> {
        @CommandLine.ParentCommand
        StateVersionsCli cli;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", paramLabel = "SHARD", description = "The shard id, s<uuid>.")
        String shard;
    }

    @Command(name = "shards", description = "List shards, a page at a time.")
    static final class Shards implements Callable<Integer> {
        @CommandLine.ParentCommand
        StateVersionsCli cli;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--after", paramLabel = "SHARD", description = "Start after this shard id.")
        String after;

        @Option(names = "--limit", defaultValue = "1000", description = "Page size, 1..1000 (default 1000).")
        int limit;

        @Override
        public Integer call() {
            return cli.print(spec, t -> t.shards(Optional.ofNullable(after), limit));
        }
    }

    @Command(name = "state", description = "A shard's current state.")
    static final class State extends ShardCommand {
        @Override
        public Integer call() {
            return cli.print(spec, t -> t.state(shard));
        }
    }

    @Command(name = "versions", description = "A shard's live versions, with the size of each diff.")
    static final class Versions extends ShardCommand {
        @Option(names = "--from", paramLabel = "SEQNO", description = "First seqno (default: the earliest live).")
        Long from;

        @Option(names = "--limit", defaultValue = "" + ShardApi.DEFAULT_LIMIT, description = "Page size, 1..1000.")
        int limit;

        @Override
        public Integer call() {
            return cli.print(spec, t -> t.versions(shard, from == null ? OptionalLong.empty() : OptionalLong.of(from),
                    limit));
        }
    }

    @Command(name = "diff", description = "What one live version changed: its decoded diff.")
    static final class Diff extends ShardCommand {
        @Parameters(index = "1", paramLabel = "SEQNO", description = "The version.")
        long seqno;

        @Override
        public Integer call() {
            return cli.print(spec, t -> t.diff(shard, seqno));
        }
    }

    @Command(name = "rollups", description = "The rollups of a shard's current state.")
    static final class Rollups extends ShardCommand {
        @Override
        public Integer call() {
            return cli.print(spec, t -> t.rollups(shard));
        }
    }

    @Command(name = "blobs", description = "A shard's blobs: referenced by live versions against present in Blob.")
    static final class Blobs extends ShardCommand {
        @Override
        public Integer call() {
            return cli.print(spec, t -> t.blobs(shard));
        }
    }

    @Command(name = "check", description = "Check the invariants of a shard's versioned log on storage; exit"
            + " status 1 on a violation (online: needs the admin role).")
    static final class Check extends ShardCommand {
        @Override
        public Integer call() {
            boolean[] ok = new boolean[1];
            cli.print(spec, t -> {
                JsonNode result = t.check(shard);
                ok[0] = result.path("ok").asBoolean(false);
                return result;
            });
            if (!ok[0]) {
                spec.commandLine().getErr().println("error: " + "invariant violated (see \"violation\")");
            }
            return ok[0] ? 0 : VIOLATION;
        }
    }

    @Command(name = "gc", description = "Run garbage collection now (online only; admin).")
    static final class Gc extends ShardCommand {
        @Override
        public Integer call() {
            return cli.print(spec, t -> t.gc(shard));
        }
    }

    @Command(name = "rollup", description = "Write a rollup of the current state now (online only; admin).")
    static final class Rollup extends ShardCommand {
        @Override
        public Integer call() {
            return cli.print(spec, t -> t.rollup(shard));
        }
    }

    @Command(name = "sweep", description = "Delete leaked blobs: those no live version refers to, older than the"
            + " grace (online only; admin).")
    static final class Sweep extends ShardCommand {
        @Option(names = "--grace-ms", paramLabel = "MS", description = "How old an unreferenced blob must be"
                + " (default: the service's stateversions.maintenance.leaked-blob-grace).")
        Long graceMs;

        @Override
        public Integer call() {
            return cli.print(spec, t -> t.sweep(shard, graceMs == null ? OptionalLong.empty()
                    : OptionalLong.of(graceMs)));
        }
    }

    /** The build's version, as every diff and rollup records it. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"state-versions-cli " + io.stateversions.config.BuildInfo.VERSION_STRING};
        }
    }
}
