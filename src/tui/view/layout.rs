//! Where each pane goes. Pure functions of the terminal size, shared by drawing and by `update`
//! (which keeps the selections scrolled into view).

use ratatui::layout::{Constraint, Layout, Rect};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 20;
/// From this size on, endpoints and resources sit side by side.
pub const WIDE_WIDTH: u16 = 120;
pub const WIDE_HEIGHT: u16 = 30;
/// The endpoint pane's least width side by side with the resources.
pub const ENDPOINTS_MIN_WIDTH: u16 = 60;

pub fn too_small(width: u16, height: u16) -> bool {
    width < MIN_WIDTH || height < MIN_HEIGHT
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub endpoints: Rect,
    pub resources: Rect,
    pub bottom: Rect,
    pub status: Rect,
}

pub fn areas(area: Rect) -> Areas {
    let [main, status] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
    if area.width >= WIDE_WIDTH && area.height >= WIDE_HEIGHT {
        let [top, bottom] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(main);
        // The endpoint table needs about 60 columns for name, namespace, status and ready side
        // by side (issue 9: at 120 columns 40% dropped the namespace); the tree takes the rest.
        let endpoints_w = (area.width * 2 / 5).max(ENDPOINTS_MIN_WIDTH);
        let [endpoints, resources] =
            Layout::horizontal([Constraint::Length(endpoints_w), Constraint::Min(0)]).areas(top);
        Areas {
            endpoints,
            resources,
            bottom,
            status,
        }
    } else {
        let [endpoints, resources, bottom] = Layout::vertical([
            Constraint::Percentage(34),
            Constraint::Percentage(33),
            Constraint::Percentage(33),
        ])
        .areas(main);
        Areas {
            endpoints,
            resources,
            bottom,
            status,
        }
    }
}

/// Rows of content (inside borders, below headers) of each list, for scrolling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListHeights {
    pub endpoints: usize,
    pub resources: usize,
    pub bottom: usize,
}

pub fn list_heights(width: u16, height: u16, kiosk: bool) -> ListHeights {
    if kiosk {
        return ListHeights {
            endpoints: usize::MAX / 2,
            resources: usize::from(height),
            bottom: usize::from(height),
        };
    }
    let a = areas(Rect::new(0, 0, width, height));
    let body = |r: Rect| usize::from(r.height.saturating_sub(3)).max(1);
    ListHeights {
        endpoints: body(a.endpoints),
        resources: body(a.resources),
        bottom: body(a.bottom),
    }
}

/// A rectangle of at most `width` x `height`, centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_layout_is_side_by_side_and_small_is_stacked() {
        let a = areas(Rect::new(0, 0, 200, 50));
        assert_eq!(a.endpoints.y, a.resources.y);
        assert!(a.resources.x > a.endpoints.x);
        assert_eq!(a.status, Rect::new(0, 49, 200, 1));
        let b = areas(Rect::new(0, 0, 100, 24));
        assert_eq!(b.endpoints.x, b.resources.x);
        assert!(b.resources.y > b.endpoints.y);
        assert!(too_small(79, 30) && too_small(100, 19) && !too_small(80, 20));
    }
}
