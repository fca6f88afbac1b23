package io.stateversions.api.rest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * One HTTP/1.1 request over a plain socket, for what an HTTP client library hides: a request whose body the server
 * refuses before it has all been sent. {@link #send} writes the head, then the body while the server accepts it,
 * then reads the response (status, headers, body) until the declared length or the end of the connection.
 */
final class RawHttp {

    record Response(int status, String headers, String body) {
        String header(String name) {
            for (String line : headers.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }
    }

    /** Writes the body into the stream; may fail once the server stops reading. */
    interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    private RawHttp() {}

    /** {@code body} in chunks of at most 64 KiB, then the last chunk. */
    static Body chunked(String body) {
        return out -> {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            for (int at = 0; at < bytes.length; at += 65536) {
                int n = Math.min(65536, bytes.length - at);
                out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(bytes, at, n);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        };
    }

    /** The head of a request with a chunked body. */
    static String chunkedHead(String method, String path) {
        return method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n";
    }

    static Response send(int port, String head, Body body) throws IOException {
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            try {
                body.writeTo(out);
                out.flush();
            } catch (IOException refused) {
                // The server answered and closed without reading the rest: the answer is what matters.
            }
            return read(socket.getInputStream());
        }
    }

    private static Response read(InputStream in) throws IOException {
        ByteArrayOutputStream headBytes = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("connection closed before the response head: " + headBytes);
            }
            headBytes.write(c);
            matched = (c == "\r\n\r\n".charAt(matched)) ? matched + 1 : (c == '\r' ? 1 : 0);
        }
        String head = headBytes.toString(StandardCharsets.US_ASCII);
        if (head.startsWith("HTTP/1.1 100")) {
            return read(in); // an interim 100 Continue: the final response follows
        }
        int status = Integer.parseInt(head.substring(9, 12));
        Response partial = new Response(status, head, "");
        String length = partial.header("content-length");
        byte[] body = length != null ? in.readNBytes(Integer.parseInt(length)) : in.readAllBytes();
        return new Response(status, head, new String(body, StandardCharsets.UTF_8));
    }
}
