package sim

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"time"
)

// The simulated catalogue. Nothing here is stored: every lead, applicant and
// statistic is a pure function of ids and the day, so two runs (and two Sims)
// agree, and tests can predict answers.
const (
	firstMerchant       = 1001
	lastMerchant        = 1020
	listingsPerMerchant = 5
	jobPostsPerMerchant = 3
	seedCredits         = 500
	creditsPerPromoDay  = 10
	refreshQuota        = 10
	purchaseQuota       = 5
	maxStatsDays        = 31
	defaultPageSize     = 20
	maxPageSize         = 100
)

// merchantIDs lists every simulated merchant, m1001 to m1020.
func merchantIDs() []string {
	ids := make([]string, 0, lastMerchant-firstMerchant+1)
	for n := firstMerchant; n <= lastMerchant; n++ {
		ids = append(ids, "m"+strconv.Itoa(n))
	}
	return ids
}

func knownMerchant(id string) bool {
	if len(id) != 5 || id[0] != 'm' {
		return false
	}
	for i := 1; i < len(id); i++ {
		if !isDigit(id[i]) {
			return false
		}
	}
	n, _ := strconv.Atoi(id[1:])
	return n >= firstMerchant && n <= lastMerchant
}

// ownerOf parses ids like Lm1001-03 (prefix L, index 1..count) and returns the
// owning merchant; ok is false when no such resource exists.
func ownerOf(id string, prefix byte, count int) (merchant string, ok bool) {
	if len(id) != 9 || id[0] != prefix || id[6] != '-' {
		return "", false
	}
	merchant = id[1:6]
	if !isDigit(id[7]) || !isDigit(id[8]) || !knownMerchant(merchant) {
		return "", false
	}
	n := int(id[7]-'0')*10 + int(id[8]-'0')
	if n < 1 || n > count {
		return "", false
	}
	return merchant, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func listingIDs(merchant string) []string {
	ids := make([]string, listingsPerMerchant)
	for i := range ids {
		ids[i] = fmt.Sprintf("L%s-%02d", merchant, i+1)
	}
	return ids
}

// hashOf mixes its parts into a well-spread 64-bit number.
func hashOf(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	x := h.Sum64()
	// FNV's low bits of similar inputs correlate; a final avalanche step
	// (splitmix64's) makes the modulo picks below look random.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

var (
	surnames = []string{"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林"}
	given    = []string{"伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "晓东"}
	titles   = []string{"先生", "女士"}
	mobiles  = []string{"130", "135", "138", "139", "150", "158", "177", "186", "188", "199"}
	inquiry  = []string{
		"请问这套房子还在吗？",
		"周末可以看房吗？",
		"租金还能再商量吗？",
		"离地铁站大概多远？",
		"可以养宠物吗？",
		"是押一付三吗？",
		"小区有车位吗？",
		"能否提供房产证明？",
	}
	applicantStatuses = []string{"New", "Viewed", "Interviewing", "Rejected", "Hired"}
)

type lead struct {
	id, listing, name, phone, message string
	at                                time.Time
}

// leadsOf returns the listing's leads, 3 to 12 of them spread over the 30
// days before today, newest first.
func leadsOf(listing string, today time.Time) []lead {
	n := 3 + int(hashOf(listing, "leads")%10)
	out := make([]lead, n)
	for k := range out {
		h := hashOf(listing, "lead", strconv.Itoa(k))
		out[k] = lead{
			id:      fmt.Sprintf("LD-%s-%02d", listing, k+1),
			listing: listing,
			name:    surnames[h%uint64(len(surnames))] + titles[(h>>8)%2],
			phone:   fmt.Sprintf("%s****%04d", mobiles[(h>>12)%uint64(len(mobiles))], (h>>20)%10000),
			message: inquiry[(h>>36)%uint64(len(inquiry))],
			at:      today.Add(-time.Duration(1+(h>>44)%(30*24*60)) * time.Minute),
		}
	}
	sortNewestFirst(out, func(l lead) (time.Time, string) { return l.at, l.id })
	return out
}

type applicant struct {
	id, jobPost, name, status string
	experienceYears           int
	at                        time.Time
}

// applicantsOf returns the job post's applicants, 2 to 9 of them over the 30
// days before today, newest first.
func applicantsOf(jobPost string, today time.Time) []applicant {
	n := 2 + int(hashOf(jobPost, "applicants")%8)
	out := make([]applicant, n)
	for k := range out {
		h := hashOf(jobPost, "applicant", strconv.Itoa(k))
		out[k] = applicant{
			id:              fmt.Sprintf("AP-%s-%02d", jobPost, k+1),
			jobPost:         jobPost,
			name:            surnames[h%uint64(len(surnames))] + given[(h>>8)%uint64(len(given))],
			experienceYears: int((h >> 16) % 16),
			status:          applicantStatuses[(h>>24)%uint64(len(applicantStatuses))],
			at:              today.Add(-time.Duration(1+(h>>32)%(30*24*60)) * time.Minute),
		}
	}
	sortNewestFirst(out, func(a applicant) (time.Time, string) { return a.at, a.id })
	return out
}

func sortNewestFirst[T any](s []T, key func(T) (time.Time, string)) {
	sort.Slice(s, func(i, j int) bool {
		ti, idi := key(s[i])
		tj, idj := key(s[j])
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return idi < idj
	})
}

type dailyStats struct {
	day                         time.Time
	views, favorites, inquiries int
}

// statsOf returns one listing's counters for day; days after today have none yet.
func statsOf(listing string, day, today time.Time) dailyStats {
	if day.After(today) {
		return dailyStats{day: day}
	}
	h := hashOf(listing, "stats", day.Format(time.DateOnly))
	views := 20 + int(h%180)
	favorites := int((h >> 16) % uint64(views/8+1))
	inquiries := int((h >> 32) % uint64(favorites/2+2))
	return dailyStats{day: day, views: views, favorites: favorites, inquiries: inquiries}
}

func frozenCreditsOf(merchant string) int64 { return int64(hashOf(merchant, "frozen")%4) * 10 }

type creditPackage struct {
	code, name     string
	credits, price int64
	currency       string
}

// creditPackages is the price list, cheapest first.
func creditPackages() []creditPackage {
	return []creditPackage{
		{code: "CP100", name: "入门包 100 积分", credits: 100, price: 9900, currency: "CNY"},
		{code: "CP500", name: "标准包 500 积分", credits: 500, price: 45000, currency: "CNY"},
		{code: "CP1000", name: "专业包 1000 积分", credits: 1000, price: 80000, currency: "CNY"},
	}
}

func findPackage(code string) (creditPackage, bool) {
	for _, p := range creditPackages() {
		if p.code == code {
			return p, true
		}
	}
	return creditPackage{}, false
}

// startOfDay is midnight UTC of t's UTC day: quotas and statistics count UTC days.
func startOfDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func xsdDateTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func xsdDate(t time.Time) string { return t.UTC().Format(time.DateOnly) }
