package io.slipstream.controller.config;

import java.util.List;

/** A fleet policy that does not parse or validate; {@link #problems()} lists each problem with its JSON path. */
public final class PolicyException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    PolicyException(List<String> problems, Throwable cause) {
        super("fleet policy: " + String.join("; ", problems), cause);
        this.problems = List.copyOf(problems);
    }

    /** Each problem: {@code $.path: value (expected: ...)}. */
    public List<String> problems() {
        return problems;
    }
}
