/// How long one time partition of the PostgreSQL `events` table spans
/// (`storage.partition_interval`), as calendar periods in UTC: a month from its first day,
/// a week from its Monday, a day from midnight.
///
/// ```swift
/// let start = PartitionInterval.month.start(of: 1_700_000_000)   // 2023-11-01T00:00:00Z
/// let end = PartitionInterval.month.end(of: start)               // 2023-12-01T00:00:00Z
/// ```
public enum PartitionInterval: String, Sendable, CaseIterable {
    case month, week, day

    private static let secondsPerDay: Int64 = 86_400

    /// The first second of the period that holds `time` (Unix seconds).
    public func start(of time: Int64) -> Int64 {
        let days = Self.floorDivide(time, Self.secondsPerDay)
        switch self {
        case .day:
            return days * Self.secondsPerDay
        case .week:
            // 1970-01-01 was a Thursday, three days after a Monday.
            return (days - Self.floorModulo(days + 3, 7)) * Self.secondsPerDay
        case .month:
            let date = CivilDate(daysSinceEpoch: days)
            return CivilDate(year: date.year, month: date.month, day: 1).daysSinceEpoch * Self.secondsPerDay
        }
    }

    /// The first second after the period that holds `time`.
    public func end(of time: Int64) -> Int64 {
        let start = start(of: time)
        switch self {
        case .day: return start + Self.secondsPerDay
        case .week: return start + 7 * Self.secondsPerDay
        case .month:
            let date = CivilDate(daysSinceEpoch: start / Self.secondsPerDay)
            let next = date.month == 12
                ? CivilDate(year: date.year + 1, month: 1, day: 1) : CivilDate(year: date.year, month: date.month + 1, day: 1)
            return next.daysSinceEpoch * Self.secondsPerDay
        }
    }

    /// `time` as `yyyymmdd` in UTC, for partition names.
    static func dayStamp(_ time: Int64) -> String {
        let date = CivilDate(daysSinceEpoch: floorDivide(time, secondsPerDay))
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(date.year, 4) + pad(date.month, 2) + pad(date.day, 2)
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }

    static func floorModulo(_ value: Int64, _ divisor: Int64) -> Int64 {
        value - floorDivide(value, divisor) * divisor
    }
}

/// A day of the proleptic Gregorian calendar, converted to and from days since 1970-01-01
/// by the era arithmetic of the civil calendar (400-year eras of 146,097 days), so that
/// partition bounds need no Foundation calendar and no time zone database.
struct CivilDate {
    var year: Int64
    var month: Int64
    var day: Int64

    init(year: Int64, month: Int64, day: Int64) {
        self.year = year
        self.month = month
        self.day = day
    }

    init(daysSinceEpoch days: Int64) {
        // Counted from 0000-03-01, so that the leap day ends each year.
        let shifted = days + 719_468
        let era = PartitionInterval.floorDivide(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    var daysSinceEpoch: Int64 {
        let marchYear = month <= 2 ? year - 1 : year
        let era = PartitionInterval.floorDivide(marchYear, 400)
        let yearOfEra = marchYear - era * 400
        let monthFromMarch = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
