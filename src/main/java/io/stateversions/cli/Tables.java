package io.stateversions.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code --format table}: the same JSON the default output prints, for people. An object's scalar fields become
 * {@code name  value} lines (never cut: a violation's message is printed whole); each array of objects becomes a table whose columns are the scalar fields of its rows
 * (nested values are printed as compact JSON); arrays of scalars are listed one per line.
 */
final class Tables {

    /** Cells longer than this are cut, so that a row fits a terminal line or two. */
    private static final int MAX_CELL = 80;

    private Tables() {}

    static String render(JsonNode node) {
        StringBuilder out = new StringBuilder();
        if (node.isArray()) {
            table(out, node);
            return out.toString();
        }
        List<Map.Entry<String, JsonNode>> scalars = new ArrayList<>();
        List<Map.Entry<String, JsonNode>> nested = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            if (field.getValue().isArray()) {
                nested.add(field);
            } else {
                scalars.add(field);
            }
        }
        int width = scalars.stream().mapToInt(e -> e.getKey().length()).max().orElse(0);
        for (Map.Entry<String, JsonNode> field : scalars) {
            JsonNode value = field.getValue();
            out.append(pad(field.getKey(), width)).append("  ")
                    .append(value.isNull() ? "-" : value.isValueNode() ? value.asText() : value.toString()).append('\n');
        }
        for (Map.Entry<String, JsonNode> field : nested) {
            JsonNode value = field.getValue();
            if (!out.isEmpty()) {
                out.append('\n');
            }
            out.append(field.getKey()).append(" (").append(value.size()).append(")\n");
            if (!value.isEmpty() && !value.get(0).isObject()) {
                value.forEach(v -> out.append("  ").append(cell(v)).append('\n'));
            } else {
                table(out, value);
            }
        }
        return out.toString();
    }

    private static void table(StringBuilder out, JsonNode rows) {
        if (rows.isEmpty()) {
            out.append("  (none)\n");
            return;
        }
        Set<String> columns = new LinkedHashSet<>();
        rows.forEach(row -> row.fieldNames().forEachRemaining(columns::add));
        List<String> names = new ArrayList<>(columns);
        List<String[]> cells = new ArrayList<>();
        int[] widths = names.stream().mapToInt(String::length).toArray();
        for (JsonNode row : rows) {
            String[] line = new String[names.size()];
            for (int i = 0; i < names.size(); i++) {
                line[i] = row.has(names.get(i)) ? cell(row.get(names.get(i))) : "";
                widths[i] = Math.max(widths[i], line[i].length());
            }
            cells.add(line);
        }
        line(out, names.toArray(String[]::new), widths);
        for (String[] line : cells) {
            line(out, line, widths);
        }
    }

    private static void line(StringBuilder out, String[] cells, int[] widths) {
        out.append("  ");
        for (int i = 0; i < cells.length; i++) {
            out.append(i == 0 ? "" : "  ").append(i == cells.length - 1 ? cells[i] : pad(cells[i], widths[i]));
        }
        out.append('\n');
    }

    private static String cell(JsonNode value) {
        String text = value.isNull() ? "-" : value.isValueNode() ? value.asText() : value.toString();
        text = text.replace('\n', ' ');
        return text.length() > MAX_CELL ? text.substring(0, MAX_CELL - 1) + "…" : text;
    }

    private static String pad(String text, int width) {
        return text.length() >= width ? text : text + " ".repeat(width - text.length());
    }
}
