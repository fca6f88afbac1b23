package io.stateversions.api.ui;

import io.stateversions.core.BatchPart;
import io.stateversions.core.Description;
import io.stateversions.core.FueledMergeReq;
import io.stateversions.core.HollowBatch;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The trace view: the batches of a state drawn over their time ranges, as SVG. Each batch gets a width that mixes an
 * equal share with its share of the time covered, so that a batch of one tick stays visible next to one of millions;
 * batches that are inputs of an outstanding merge request are highlighted, and each request is a bracket over its
 * inputs. Only the last {@link #MAX_BATCHES} batches are drawn (the count of the others is shown).
 */
public record TraceChart(List<BatchBox> batches, List<MergeBracket> merges, int hiddenBatches, String lower, String upper) {

    static final int WIDTH = 960;
    static final int HEIGHT = 96;
    static final int MAX_BATCHES = 400;
    private static final double LEFT = 6;

    /**
     * One batch.
     *
     * @param merging it is an input of an outstanding merge request
     */
    public record BatchBox(int index, double x, double width, String lower, String upper, String since, long len,
            int parts, int inlineParts, String size, boolean empty, boolean merging) {}

    /** An outstanding merge request over its input batches. */
    public record MergeBracket(String id, double x, double width, int inputs, String lower, String upper, long len) {}

    static TraceChart of(List<HollowBatch> all, List<FueledMergeReq> requests) {
        int hidden = Math.max(0, all.size() - MAX_BATCHES);
        List<HollowBatch> shown = all.subList(hidden, all.size());
        if (shown.isEmpty()) {
            return new TraceChart(List.of(), List.of(), 0, "[0]", "[0]");
        }
        // Time spans; a closed batch (upper []) counts as the mean span of the others.
        double[] spans = new double[shown.size()];
        double total = 0;
        int open = 0;
        for (int i = 0; i < shown.size(); i++) {
            Description d = shown.get(i).desc();
            if (!d.upper().isEmpty() && !d.lower().isEmpty()) {
                spans[i] = (double) d.upper().element() - d.lower().element();
                total += spans[i];
                open++;
            } else {
                spans[i] = -1;
            }
        }
        double mean = open == 0 ? 1 : Math.max(total / open, 1);
        total = 0;
        for (int i = 0; i < spans.length; i++) {
            spans[i] = spans[i] < 0 ? mean : spans[i];
            total += spans[i];
        }
        double width = WIDTH - 2 * LEFT;
        Map<Description, List<FueledMergeReq>> merging = new HashMap<>();
        for (FueledMergeReq req : requests) {
            for (HollowBatch input : req.inputs()) {
                merging.computeIfAbsent(input.desc(), k -> new ArrayList<>()).add(req);
            }
        }
        List<BatchBox> boxes = new ArrayList<>(shown.size());
        Map<Description, BatchBox> byDesc = new HashMap<>();
        double x = LEFT;
        for (int i = 0; i < shown.size(); i++) {
            HollowBatch b = shown.get(i);
            double w = width * (0.5 / shown.size() + (total > 0 ? 0.5 * spans[i] / total : 0.5 / shown.size()));
            int inline = 0;
            for (BatchPart part : b.parts()) {
                inline += part instanceof BatchPart.Inline ? 1 : 0;
            }
            BatchBox box = new BatchBox(hidden + i, x, w, Format.frontier(b.desc().lower()),
                    Format.frontier(b.desc().upper()), Format.frontier(b.desc().since()), b.len(), b.parts().size(),
                    inline, Format.bytes(b.encodedSizeBytes()), b.isEmpty(), merging.containsKey(b.desc()));
            boxes.add(box);
            byDesc.put(b.desc(), box);
            x += w;
        }
        List<MergeBracket> brackets = new ArrayList<>();
        for (FueledMergeReq req : requests) {
            double from = Double.MAX_VALUE;
            double to = -1;
            long len = 0;
            for (HollowBatch input : req.inputs()) {
                BatchBox box = byDesc.get(input.desc());
                len += input.len();
                if (box != null) {
                    from = Math.min(from, box.x());
                    to = Math.max(to, box.x() + box.width());
                }
            }
            if (to >= 0) {
                brackets.add(new MergeBracket(req.id(), from, to - from, req.inputs().size(),
                        Format.frontier(req.desc().lower()), Format.frontier(req.desc().upper()), len));
            }
        }
        return new TraceChart(boxes, brackets, hidden, Format.frontier(shown.get(0).desc().lower()),
                Format.frontier(shown.get(shown.size() - 1).desc().upper()));
    }
}
