package io.stateversions.stateversions;

import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.testing.Scripts;
import io.stateversions.testing.StateVersionsScriptDriver;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs every script of {@code src/test/resources/scripts/state-versions} (see {@link StateVersionsScriptDriver} for
 * the directives) as a test case of its own. A backend's subclass only supplies the storage. To accept new output,
 * run the memory subclass with {@code -Dscripts.rewrite=true} and review the diff of the scripts.
 */
abstract class StateVersionsScriptsTest {

    /** The Consensus for one script; a script's shards are fresh, so backends may be shared. */
    protected abstract Consensus consensus();

    /** The Blob for one script. */
    protected abstract Blob blob();

    protected abstract Retries retries();

    static List<String> scripts() {
        return Scripts.list(StateVersionsScriptDriver.SUITE);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scripts")
    void script(String name) {
        Scripts.run(Scripts.directory(StateVersionsScriptDriver.SUITE).resolve(name),
                new StateVersionsScriptDriver(consensus(), blob(), retries()));
    }
}
