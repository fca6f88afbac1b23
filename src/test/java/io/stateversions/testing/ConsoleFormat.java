package io.stateversions.testing;

import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import org.jboss.logmanager.ExtHandler;
import org.jboss.logmanager.ExtLogRecord;
import org.jboss.logmanager.LogContext;
import org.jboss.logmanager.handlers.ConsoleHandler;

/** How the running service's console handler writes a log record (README "Logs"). */
public final class ConsoleFormat {

    private ConsoleFormat() {}

    /** The line the console handler would write for an INFO record of {@code logger} saying {@code message}. */
    public static String line(String logger, String message) {
        ExtLogRecord record = new ExtLogRecord(Level.INFO, message, ExtLogRecord.FormatStyle.NO_FORMAT,
                ConsoleFormat.class.getName());
        record.setLoggerName(logger);
        return formatter(LogContext.getLogContext().getLogger("").getHandlers()).format(record);
    }

    private static Formatter formatter(Handler[] handlers) {
        for (Handler handler : handlers) {
            if (handler instanceof ConsoleHandler console) {
                return console.getFormatter();
            }
            if (handler instanceof ExtHandler parent && parent.getHandlers().length > 0) {
                try {
                    return formatter(parent.getHandlers());
                } catch (IllegalStateException notBelowThisOne) {
                    // try the next handler
                }
            }
        }
        throw new IllegalStateException("no console handler among " + java.util.Arrays.toString(handlers));
    }
}
