package io.stateversions.bench;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.stateversions.bench.etcd.Compare;
import io.stateversions.bench.etcd.KVGrpc;
import io.stateversions.bench.etcd.PutRequest;
import io.stateversions.bench.etcd.RequestOp;
import io.stateversions.bench.etcd.TxnRequest;
import io.stateversions.bench.etcd.TxnResponse;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The etcd baseline: per operation one transaction that compares the key's {@code mod_revision} with the revision
 * of this client's previous write and then puts the new value (etcd's compare-and-swap), through etcd's gRPC KV API
 * (grpc-java stubs generated from a subset of etcd's protos), over one HTTP/2 connection as etcd's own clients use.
 */
final class EtcdAppends implements Appends {

    private final ManagedChannel channel;
    private final KVGrpc.KVBlockingStub kv;
    private final ByteString value;
    private ByteString[] keys = new ByteString[0];
    private long[] revisions = new long[0];

    EtcdAppends(int port, int valueBytes) {
        this.channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        this.kv = KVGrpc.newBlockingStub(channel);
        byte[] bytes = new byte[valueBytes];
        new Random(7).nextBytes(bytes);
        this.value = ByteString.copyFrom(bytes);
    }

    @Override
    public void prepare(int shards) {
        keys = new ByteString[shards];
        revisions = new long[shards];
        for (int i = 0; i < shards; i++) {
            keys[i] = ByteString.copyFromUtf8("s" + UUID.randomUUID());
            revisions[i] = kv.withDeadlineAfter(60, TimeUnit.SECONDS)
                    .put(PutRequest.newBuilder().setKey(keys[i]).setValue(value).build()).getHeader().getRevision();
        }
    }

    @Override
    public void append(int shard) {
        TxnResponse response = kv.withDeadlineAfter(60, TimeUnit.SECONDS).txn(TxnRequest.newBuilder()
                .addCompare(Compare.newBuilder().setResult(Compare.CompareResult.EQUAL)
                        .setTarget(Compare.CompareTarget.MOD).setKey(keys[shard]).setModRevision(revisions[shard]))
                .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(keys[shard])
                        .setValue(value)))
                .build());
        if (!response.getSucceeded()) {
            throw new IllegalStateException("etcd compare-and-swap did not commit on " + keys[shard].toStringUtf8());
        }
        revisions[shard] = response.getHeader().getRevision();
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}
