// The report's page: one self-contained HTML file (styles inline, the PNGs embedded as base64
// data: URIs), so that index.html alone can be mailed or archived and still shows everything.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tools/nos_search/report_data.h"
#include "tools/nos_search/report_plots.h"

namespace nos::search::cli {

// figures[i] is drawn as pngs[i] (the PNG's bytes); an empty one shows figures[i].absent instead.
std::string report_html(const ReportData& data, const std::vector<Figure>& figures,
                        const std::vector<std::string>& pngs);

// &, <, >, " and ' as entities: rule text, names and messages are never markup.
std::string html_escape(std::string_view text);

// RFC 4648 base64 with padding, no line breaks (what a data: URI holds).
std::string base64(std::string_view bytes);

}  // namespace nos::search::cli
