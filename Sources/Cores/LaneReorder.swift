import HDL

/// How many words a K-lane encoder's reorder buffer (`LaneWordPacker`) must hold so that it can
/// never wait on itself.
///
/// A lane's word takes its place in the stream when the lane's first bit lands in it, and can
/// leave only when the lane has filled it; meanwhile other lanes open words behind it. The buffer
/// stalls new chunks only while every slot is taken, which is safe as long as the oldest open word
/// is filled before the slots run out. Two bounds on the slots opened while one word is open
/// (each chunk, or piece of 32 bits of a longer one, opens at most one):
/// - **by chunks**, when every chunk has at least `shortestChunk` >= 1 bits: the open word holds at
///   least one bit, so its lane fills it within ceil(31 / shortest) more chunks of its own, between
///   which the other K - 1 lanes take one chunk each, plus the `extraChunks` of a frame that do not
///   move the lane ring (tANS state bits) and the filling chunk's own new word;
/// - **by frames**, when a frame holds at most `framedChunks` chunks: everything open is the
///   current frame's, and a frame has at most K + (its bits / 32) words.
enum LaneReorder {
    /// The most slots from a frame's oldest open word to its newest (the open word included), by
    /// the smaller bound.
    static func openSlots(lanes k: Int, shortestChunk: Int, longestChunk: Int, extraChunks: Int = 0, framedChunks: Int? = nil) -> Int {
        var bound = Int.max
        if shortestChunk >= 1 {
            let ownChunks = (31 + shortestChunk - 1) / shortestChunk
            // A chunk of more than 32 bits goes in as two pieces, each opening at most one word.
            let pieces = (longestChunk + 31) / 32
            bound = 1 + ownChunks * (k - 1) * pieces + extraChunks + 1
        }
        if let framedChunks {
            bound = min(bound, k + (framedChunks * longestChunk) / 32)
        }
        return bound
    }

    /// The buffer's depth in words: a power of two above `openSlots`, so a chunk always finds a
    /// slot while the oldest is open.
    static func depth(lanes k: Int, shortestChunk: Int, longestChunk: Int, extraChunks: Int = 0, framedChunks: Int? = nil) -> Int {
        let open = openSlots(lanes: k, shortestChunk: shortestChunk, longestChunk: longestChunk, extraChunks: extraChunks, framedChunks: framedChunks)
        return 1 << max(1, bitsToAddress(open + 1))
    }
}
