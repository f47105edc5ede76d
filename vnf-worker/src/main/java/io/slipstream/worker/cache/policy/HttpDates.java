package io.slipstream.worker.cache.policy;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient must accept.
 * Parsing is strict about the layout (names are case-sensitive, as in the grammar) and lenient only about
 * surrounding whitespace; the day name is checked for spelling but not against the date. Anything else,
 * including impossible dates such as 31 Feb, parses to {@code null}.
 */
public final class HttpDates {

    private static final String DAY = "(Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
    private static final String LONG_DAY = "(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
    private static final String MONTH = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
    private static final String TIME = "(\\d{2}):(\\d{2}):(\\d{2})";
    private static final Pattern IMF_FIXDATE =
            Pattern.compile(DAY + ", (\\d{2}) " + MONTH + " (\\d{4}) " + TIME + " GMT");
    private static final Pattern RFC_850 =
            Pattern.compile(LONG_DAY + ", (\\d{2})-" + MONTH + "-(\\d{2}) " + TIME + " GMT");
    private static final Pattern ASCTIME =
            Pattern.compile(DAY + " " + MONTH + " ([ \\d]\\d) " + TIME + " (\\d{4})");
    private static final List<String> MONTHS =
            List.of("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec");
    private static final DateTimeFormatter IMF =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    private HttpDates() {
    }

    /**
     * The instant an HTTP-date names, or {@code null} when {@code value} is null or not a valid HTTP-date.
     * A two-digit RFC 850 year is read as 19xx when 70..99 and 20xx when 00..69 — a fixed pivot rather than
     * RFC 9110's "more than 50 years in the future" rule, so that parsing needs no clock (same result until 2020+50).
     */
    public static Instant parse(String value) {
        if (value == null) {
            return null;
        }
        String s = value.strip();
        Matcher m = IMF_FIXDATE.matcher(s);
        if (m.matches()) {
            return instant(m.group(4), m.group(3), m.group(2), m.group(5), m.group(6), m.group(7));
        }
        m = RFC_850.matcher(s);
        if (m.matches()) {
            int yy = Integer.parseInt(m.group(4));
            String year = Integer.toString(yy >= 70 ? 1900 + yy : 2000 + yy);
            return instant(year, m.group(3), m.group(2), m.group(5), m.group(6), m.group(7));
        }
        m = ASCTIME.matcher(s);
        if (m.matches()) {
            return instant(m.group(7), m.group(2), m.group(3).strip(), m.group(4), m.group(5), m.group(6));
        }
        return null;
    }

    /** {@code instant} as an IMF-fixdate, the form a sender must generate; sub-second precision is dropped. */
    public static String format(Instant instant) {
        return IMF.format(instant);
    }

    private static Instant instant(String year, String month, String day, String hour, String minute, String second) {
        try {
            return LocalDateTime.of(Integer.parseInt(year), MONTHS.indexOf(month) + 1, Integer.parseInt(day),
                    Integer.parseInt(hour), Integer.parseInt(minute), Integer.parseInt(second))
                    .toInstant(ZoneOffset.UTC);
        } catch (DateTimeException e) {
            return null;
        }
    }
}
