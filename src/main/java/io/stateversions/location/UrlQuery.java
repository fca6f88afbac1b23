package io.stateversions.location;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The query parameters of a location URL. Unknown parameters are configuration errors ({@link
 * IllegalArgumentException}, spec §7.6): a typo must
 * not silently fall back to a default.
 */
public final class UrlQuery {

    private final String url;
    private final Map<String, String> parameters;

    private UrlQuery(String url, Map<String, String> parameters) {
        this.url = url;
        this.parameters = parameters;
    }

    /**
     * @param redactedUrl the URL as it may appear in an error message (no password)
     * @param allowed the parameter names this kind of location accepts
     */
    public static UrlQuery parse(URI uri, String redactedUrl, Set<String> allowed) {
        Map<String, String> parameters = new LinkedHashMap<>();
        String query = uri.getRawQuery();
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&")) {
                String[] nameValue = pair.split("=", 2);
                String name = URLDecoder.decode(nameValue[0], StandardCharsets.UTF_8);
                if (!allowed.contains(name)) {
                    throw new IllegalArgumentException("unknown parameter '" + name + "' in " + redactedUrl
                            + (allowed.isEmpty() ? "; it takes none" : "; supported: " + String.join(", ", new TreeSet<>(allowed))));
                }
                parameters.put(name, nameValue.length == 2 ? URLDecoder.decode(nameValue[1], StandardCharsets.UTF_8) : "");
            }
        }
        return new UrlQuery(redactedUrl, parameters);
    }

    /** The URL without the password of its user info, for logs and error messages. */
    public static String redact(String url) {
        return url.replaceFirst("(://[^:/@]*:)[^@/]*@", "$1***@");
    }

    private static final java.util.regex.Pattern PASSWORD = java.util.regex.Pattern.compile("://[^:/@]*:([^@/]*)@");

    /**
     * The message of a failure to parse {@code url}, with the URL's password masked wherever the message quotes it
     * (the JDK's and drivers' messages quote their whole input).
     */
    public static String failureMessage(String url, Throwable failure) {
        String message = String.valueOf(failure.getMessage());
        java.util.regex.Matcher password = PASSWORD.matcher(url);
        if (password.find() && !password.group(1).isEmpty()) {
            message = message.replace(password.group(1), "***");
        }
        return message;
    }

    public Optional<String> get(String name) {
        return Optional.ofNullable(parameters.get(name)).filter(value -> !value.isEmpty());
    }

    /** A flag: absent is {@code absent}; present without a value, or {@code true}, is true; {@code false} is false. */
    public boolean flag(String name, boolean absent) {
        String value = parameters.get(name);
        if (value == null) {
            return absent;
        }
        return switch (value) {
            case "", "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("parameter '" + name + "' in " + url + " must be true or false, got '"
                    + value + "'");
        };
    }
}
