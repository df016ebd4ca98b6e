//! The one table widget: column titles, only the visible window of rows, the selection, and a
//! title with counts and the active filter.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Row, Table};

use super::Styles;
use crate::state::State;

/// A table's frame: title words and its column set.
pub struct TableSpec<'a> {
    pub title: String,
    pub headers: Vec<&'a str>,
    pub widths: Vec<Constraint>,
}

/// Draws `rows(i)` for the visible indices of the current screen's items.
pub fn draw<'a>(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    styles: &Styles,
    spec: TableSpec<'_>,
    mut row: impl FnMut(usize) -> Row<'a>,
) {
    let screen = state.screen();
    let total = screen.items.len();
    let mut title = vec![Span::styled(format!(" {} ", spec.title), styles.title)];
    if !screen.filter_text.is_empty() {
        title.push(Span::styled(
            format!("/{} ", screen.filter_text),
            styles.accent,
        ));
    }
    if state.faults_only {
        title.push(Span::styled("faults only ", styles.warn));
    }
    let sort = screen.kind.sort_columns();
    if sort.len() > 1 {
        let arrow = if screen.reverse { "↑" } else { "↓" };
        title.push(Span::styled(
            format!("sort {}{arrow} ", sort[screen.sort]),
            styles.muted,
        ));
    }
    let position = if total == 0 {
        " 0 ".to_string()
    } else {
        format!(" {} of {total} ", screen.selected + 1)
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(styles.border)
        .title(Line::from(title))
        .title_bottom(Line::from(Span::styled(position, styles.muted)).right_aligned());
    let inner_height = usize::from(area.height.saturating_sub(3));
    let offset = screen.offset.min(total.saturating_sub(1));
    let end = (offset + inner_height).min(total);
    let rows: Vec<Row> = (offset..end)
        .map(|i| {
            let r = row(i);
            if i == screen.selected {
                r.style(styles.selected)
            } else {
                r
            }
        })
        .collect();
    let header = Row::new(
        spec.headers
            .iter()
            .map(|h| Span::styled(*h, styles.column_title)),
    );
    let table = Table::new(rows, spec.widths)
        .header(header)
        .block(block)
        .column_spacing(1)
        .style(styles.base);
    frame.render_widget(table, area);
}
