import Foundation

/// How hard the random sweeps push: `make test` runs the quick tier, `make test-long`
/// (HWGEN_LONG_TESTS=1) the long one.
public enum TestScale {
    public static let isLong: Bool = ProcessInfo.processInfo.environment["HWGEN_LONG_TESTS"] == "1"

    /// `quick` in the normal tier, `long` in the long tier.
    public static func pick<T>(quick: T, long: T) -> T { isLong ? long : quick }
}
